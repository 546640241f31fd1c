"""Random changes that keep a digit the same digit (moves, strokes, blur), and images that show no digit."""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F


def random_affine(images: Tensor, degrees: float = 10.0, shift: float = 2.0, scale: float = 0.1,
                  generator: torch.Generator | None = None) -> Tensor:
    """Images (N, C, H, W) in [-1, 1], each rotated by up to ±degrees, shifted by up to ±shift pixels on each axis
    and scaled by 1 ± scale (drawn uniformly per image, from the CPU `generator`); what comes in is background -1."""
    if not isinstance(images, Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = (f"{images.dtype} tensor of shape {tuple(images.shape)}" if isinstance(images, Tensor)
               else type(images).__name__)
        raise ValueError(f"images must be a float tensor (N, C, H, W), got a {got}")
    if not (degrees >= 0 and shift >= 0 and 0 <= scale < 1):
        raise ValueError(f"expected degrees ≥ 0, shift ≥ 0 and 0 ≤ scale < 1, "
                         f"got degrees={degrees}, shift={shift}, scale={scale}")
    n, _, height, width = images.shape

    def uniform(*size: int) -> Tensor:                                              # U[-1, 1]
        return torch.rand(*size, generator=generator).mul(2).sub(1).to(images.device, images.dtype)

    angle = uniform(n) * degrees * math.pi / 180                                   # (N,) radians
    zoom = 1 + uniform(n) * scale                                                   # (N,)
    offset = uniform(n, 2) * shift * 2 / torch.tensor([width, height], device=images.device,
                                                      dtype=images.dtype)           # (N, 2) in [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], dim=1),
                         torch.stack([sin, cos, offset[:, 1]], dim=1)], dim=1)     # (N, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)           # (N, H, W, 2)
    # shift to [0, 2] so that the zero padding of grid_sample is the background -1 afterwards
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


def random_style(images: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Images (N, 1, H, W) in [-1, 1] -> (N, 1, H, W): random_affine (±12°, ±2.5 px, 1 ± 0.15), then for a
    quarter of them a thicker stroke (3x3 max filter) and for 15% a thinner one (min filter), partly
    mixed in, and for 30% a 3x3 binomial blur."""
    images = random_affine(images, degrees=12.0, shift=2.5, scale=0.15, generator=generator)
    n = images.shape[0]
    draw = torch.rand(n, generator=generator).to(images.device).view(n, 1, 1, 1)
    amount = torch.rand(n, generator=generator).to(images.device, images.dtype).view(n, 1, 1, 1)
    thick = F.max_pool2d(images, 3, 1, 1)
    thin = -F.max_pool2d(-images, 3, 1, 1)
    images = torch.where(draw < 0.25, images + amount * (thick - images), images)
    images = torch.where((draw >= 0.25) & (draw < 0.4), images + amount * (thin - images), images)
    kernel = torch.tensor([1.0, 2.0, 1.0], device=images.device, dtype=images.dtype)
    kernel = (kernel[:, None] * kernel[None]).div(16).view(1, 1, 3, 3)
    blurred = F.conv2d(images + 1, kernel.expand(images.shape[1], 1, 3, 3), padding=1, groups=images.shape[1]) - 1
    blur = (torch.rand(n, generator=generator) < 0.3).to(images.device).view(n, 1, 1, 1)
    return torch.where(blur, blurred, images)


def junk_images(images: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Images (N, 1, H, W) in [-1, 1] -> N images in [-1, 1] that show no digit: a third uniform noise, a third
    smoothed noise (blobs), a third the pixels of each image shuffled (its ink, with no shape)."""
    n, c, h, w = images.shape
    kind = torch.arange(n) % 3
    noise = torch.rand(n, c, h, w, generator=generator).to(images.device, images.dtype) * 2 - 1
    blobs = F.interpolate(torch.rand(n, c, h // 4, w // 4, generator=generator), size=(h, w), mode="bilinear",
                          align_corners=False).to(images.device, images.dtype) * 2 - 1
    order = torch.argsort(torch.rand(n, h * w, generator=generator), dim=1).to(images.device)
    shuffled = images.flatten(2).gather(2, order.unsqueeze(1).expand(n, c, h * w)).view(n, c, h, w)
    pick = kind.to(images.device).view(n, 1, 1, 1)
    return torch.where(pick == 0, noise, torch.where(pick == 1, blobs, shuffled))
