"""Pixels as stored (uint8 in [0, 255]) <-> as the networks see them (float in [-1, 1], a generator's tanh)."""
from __future__ import annotations

import torch
from torch import Tensor


def to_float(images: Tensor) -> Tensor:
    """(N, C, H, W) uint8 in [0, 255] -> float32 in [-1, 1] (same device): x / 127.5 - 1."""
    if not isinstance(images, Tensor) or images.dtype != torch.uint8:
        got = images.dtype if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"to_float expects a uint8 tensor of pixels in [0, 255], got {got}")
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: Tensor) -> Tensor:
    """Float images in [-1, 1] -> uint8 in [0, 255] (same shape and device)."""
    if not isinstance(images, Tensor) or not images.is_floating_point():
        raise ValueError("to_uint8 expects a float tensor of images in [-1, 1]")
    _check_pixels(images, "to_uint8")
    return ((images.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def _check_pixels(images: Tensor, name: str) -> None:
    """Raise unless the images hold no NaN and lie in [-1, 1] (give or take 1e-3)."""
    if images.isnan().any():  # clamp keeps NaN and .to(uint8) would turn it into 0 (black)
        raise ValueError(f"{name} got {int(images.isnan().sum())} NaN pixels of {images.numel()}: "
                         "the images are not finite (a diverged generator?)")
    low, high = (images.min().item(), images.max().item()) if images.numel() else (0.0, 0.0)
    if low < -1.001 or high > 1.001:
        raise ValueError(f"{name} expects float images in [-1, 1], got values in [{low:.4g}, {high:.4g}] "
                         "(pixels in 0..255? to_float converts uint8 images)")
