"""What lesson 05 teaches and later lessons reuse: generated from solutions/05_gan_failures.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchStd(nn.Module):
    """ProGAN's layer: features (N, C, ...) -> (N, C + 1, ...), each sample also given the batch's mean feature
    spread (lesson 09 puts it in an image discriminator, on (N, C, H, W) feature maps)."""

    def forward(self, h: Tensor) -> Tensor:
        spread = h.std(dim=0).mean()                                         # one spread for the whole batch
        return torch.cat([h, spread.expand(h.shape[0], 1, *h.shape[2:])], dim=1)
