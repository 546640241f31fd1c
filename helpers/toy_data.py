"""2-D toy datasets: small enough to see every point, hard enough to show how GANs fail."""
from __future__ import annotations

import math

import torch
from torch import Tensor

TWO_PI = 2 * math.pi


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int (number of points), got {n!r}")


def harmonic_curve(n: int, generator: torch.Generator | None = None,
                   device: str | torch.device = "cpu") -> Tensor:
    """(n, 2) points (x, sin x) with x uniform in [0, 2π]."""
    _check_n(n)
    x = torch.rand(n, 1, generator=generator) * TWO_PI     # (n, 1)
    return torch.cat([x, torch.sin(x)], dim=1).to(device)  # (n, 2)


def _mixture(n: int, centres: Tensor, std: float, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """(n, 2) points from equal Gaussians of standard deviation `std` around `centres` (K, 2), and the centres."""
    _check_n(n)
    which = torch.randint(0, centres.shape[0], (n,), generator=generator)        # (n,) mode index
    return centres[which] + std * torch.randn(n, 2, generator=generator), centres  # (n, 2), (K, 2)


def gaussian_ring(n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(n, 2) points from 8 equal Gaussians (σ 0.02) evenly spaced on a circle of radius 2, and the (8, 2) centres."""
    angles = torch.arange(8) * TWO_PI / 8                                          # (8,)
    return _mixture(n, 2.0 * torch.stack([angles.cos(), angles.sin()], dim=1), 0.02, generator)


def gaussian_grid(n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(n, 2) points from the usual 25-Gaussian benchmark (centres at {-4, -2, 0, 2, 4}², σ 0.05), and the centres."""
    ticks = torch.arange(-4.0, 5.0, 2.0)                                           # (5,)
    return _mixture(n, torch.cartesian_prod(ticks, ticks), 0.05, generator)        # centres (25, 2)


# name -> (sampler returning (points (n, 2), centres (K, 2)), σ of each mode, half-width of its plots)
MIXTURES = {"ring8": (gaussian_ring, 0.02, 2.6), "grid25": (gaussian_grid, 0.05, 5.2)}


def mixture_sampler(name: str, seed: int, device: str | torch.device = "cpu"):
    """A function n -> (n, 2) points of MIXTURES[name] on `device`, from its own random stream seeded with `seed`."""
    sample_fn = MIXTURES[name][0]
    rng = torch.Generator().manual_seed(seed)
    return lambda n: sample_fn(n, generator=rng)[0].to(device)
