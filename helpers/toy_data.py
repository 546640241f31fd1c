"""2-D toy datasets: small enough to see every point, hard enough to show how GANs fail."""
from __future__ import annotations

import math

import torch
from torch import Tensor

TWO_PI = 2 * math.pi


def _check(name: str, value, kind: type = int) -> None:
    """Raise unless `value` is a positive int (kind=int) or a positive finite number (kind=float)."""
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    if kind is float and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def harmonic_curve(n: int, generator: torch.Generator | None = None,
                   device: str | torch.device = "cpu") -> Tensor:
    """(n, 2) points (x, sin x) with x uniform in [0, 2π]."""
    _check("n (the number of points)", n)
    x = torch.rand(n, 1, generator=generator) * TWO_PI     # (n, 1)
    return torch.cat([x, torch.sin(x)], dim=1).to(device)  # (n, 2)


def _mixture(n: int, centres: Tensor, std: float, generator: torch.Generator | None,
             device: str | torch.device) -> tuple[Tensor, Tensor]:
    _check("n (the number of points)", n)
    _check("std", std, float)
    which = torch.randint(0, centres.shape[0], (n,), generator=generator)   # (n,) mode index
    points = centres[which] + std * torch.randn(n, 2, generator=generator)  # (n, 2)
    return points.to(device), centres.to(device)


def gaussian_ring(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                  generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """(n, 2) points from `modes` equal Gaussians evenly spaced on a circle, and the (modes, 2) centres."""
    _check("modes", modes)
    _check("radius", radius, float)
    angles = torch.arange(modes) * TWO_PI / modes                                  # (modes,)
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)            # (modes, 2)
    return _mixture(n, centres, std, generator, device)


def gaussian_grid(n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05,
                  generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """(n, 2) points from side×side equal Gaussians on a square grid centred on 0, and the (side², 2) centres.

    The defaults are the usual 25-Gaussian benchmark: centres at {-4, -2, 0, 2, 4}², std 0.05.
    """
    _check("side", side)
    _check("spacing", spacing, float)
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing  # (side,)
    return _mixture(n, torch.cartesian_prod(ticks, ticks), std, generator, device)  # centres (side², 2)


# name -> (sampler returning (points (n, 2), centres (K, 2)), σ of each mode, half-width of its plots)
MIXTURES = {"ring8": (gaussian_ring, 0.02, 2.6), "grid25": (gaussian_grid, 0.05, 5.2)}


def mixture_sampler(name: str, seed: int, device: str | torch.device = "cpu"):
    """A function n -> (n, 2) points of MIXTURES[name] on `device`, from its own random stream seeded with `seed`."""
    sample_fn = MIXTURES[name][0]
    rng = torch.Generator().manual_seed(seed)
    return lambda n: sample_fn(n, generator=rng)[0].to(device)
