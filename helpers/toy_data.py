"""2-D toy datasets: small enough to see every point, hard enough to show how GANs fail."""
from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

TWO_PI = 2 * math.pi


def harmonic_curve(n: int, generator: torch.Generator | None = None,
                   device: str | torch.device = "cpu") -> Tensor:
    """(n, 2) points (x, sin x) with x uniform in [0, 2π]."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int (number of points), got {n!r}")
    x = torch.rand(n, 1, generator=generator) * TWO_PI   # (n, 1)
    return torch.cat([x, torch.sin(x)], dim=1).to(device)  # (n, 2)


# --- Lesson 05: why GANs fail, and how to fix them ---

def _mixture(n: int, centres: Tensor, std: float, generator: torch.Generator | None,
             device: str | torch.device) -> tuple[Tensor, Tensor]:
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int (number of points), got {n!r}")
    if not (isinstance(std, (int, float)) and math.isfinite(std) and std > 0):
        raise ValueError(f"std must be a positive finite number, got {std!r}")
    which = torch.randint(0, centres.shape[0], (n,), generator=generator)   # (n,) mode index
    points = centres[which] + std * torch.randn(n, 2, generator=generator)  # (n, 2)
    return points.to(device), centres.to(device, copy=True)  # a copy: the centres are cached below


def gaussian_ring(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                  generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """(n, 2) points from `modes` equal Gaussians evenly spaced on a circle, and the (modes, 2) centres."""
    if not isinstance(modes, int) or isinstance(modes, bool) or modes <= 0:
        raise ValueError(f"modes must be a positive int, got {modes!r}")
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive finite number, got {radius!r}")
    return _mixture(n, _ring_centres(modes, float(radius)), std, generator, device)


@functools.lru_cache(maxsize=16)  # a training loop samples every step: build the centres once
def _ring_centres(modes: int, radius: float) -> Tensor:
    angles = torch.arange(modes) * TWO_PI / modes                          # (modes,)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)       # (modes, 2)


def gaussian_grid(n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05,
                  generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> tuple[Tensor, Tensor]:
    """(n, 2) points from side×side equal Gaussians on a square grid centred on 0, and the (side², 2) centres.

    The defaults are the usual 25-Gaussian benchmark: centres at {-4, -2, 0, 2, 4}², std 0.05.
    """
    if not isinstance(side, int) or isinstance(side, bool) or side <= 0:
        raise ValueError(f"side must be a positive int, got {side!r}")
    if not (isinstance(spacing, (int, float)) and math.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be a positive finite number, got {spacing!r}")
    return _mixture(n, _grid_centres(side, float(spacing)), std, generator, device)


@functools.lru_cache(maxsize=16)
def _grid_centres(side: int, spacing: float) -> Tensor:
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing  # (side,)
    return torch.cartesian_prod(ticks, ticks)                                      # (side², 2)


# name -> (sampler returning (points (n, 2), centres (K, 2)), σ of each mode, half-width of its plots)
MIXTURES = {"ring8": (gaussian_ring, 0.02, 2.6), "grid25": (gaussian_grid, 0.05, 5.2)}


def mixture_sampler(name: str, seed: int, device: str | torch.device = "cpu"):
    """A function n -> (n, 2) points of MIXTURES[name] on `device`, from its own random stream seeded with `seed`."""
    sample_fn = MIXTURES[name][0]
    rng = torch.Generator().manual_seed(seed)
    return lambda n: sample_fn(n, generator=rng)[0].to(device)
