"""Numbers that say how well a GAN is doing."""
from __future__ import annotations


import torch
from torch import Tensor

from helpers.toy_data import TWO_PI


def _points(points: Tensor, name: str = "points") -> Tensor:
    if not isinstance(points, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (N, 2), got {type(points).__name__}")
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, 2) with N > 0, got {tuple(points.shape)}")
    if not points.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got dtype {points.dtype}")
    return points.detach().float().cpu()


def curve_error(points: Tensor) -> float:
    """(N, 2) points -> mean |y - sin x|: how far they sit from the curve y = sin x."""
    p = _points(points)
    return (p[:, 1] - torch.sin(p[:, 0])).abs().mean().item()


def wasserstein_to_uniform(samples: Tensor, low: float = 0.0, high: float = TWO_PI) -> float:
    """(N,) samples -> 1-D Wasserstein distance to Uniform[low, high].

    In 1-D, W1 = ∫ |F⁻¹(u) - G⁻¹(u)| du: compare the sorted samples with the uniform
    quantiles at (i + 0.5) / N. Zero means the samples spread evenly over [low, high].
    """
    if not isinstance(samples, Tensor) or samples.ndim != 1 or samples.numel() == 0:
        raise ValueError(f"samples must be a non-empty 1-D tensor, got "
                         f"{tuple(samples.shape) if isinstance(samples, Tensor) else type(samples).__name__}")
    if not high > low:
        raise ValueError(f"need high > low, got low={low}, high={high}")
    x = samples.detach().double().cpu().sort().values
    n = x.numel()
    quantiles = low + (high - low) * (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return (x - quantiles).abs().mean().item()


def curve_coverage(points: Tensor) -> float:
    """(N, 2) points -> W1 distance between their x and Uniform[0, 2π] (0 = the whole curve)."""
    return wasserstein_to_uniform(_points(points)[:, 0])


