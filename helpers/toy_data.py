"""2-D toy datasets: small enough to see every point, hard enough to show how GANs fail."""
from __future__ import annotations

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
