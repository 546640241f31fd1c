"""What lesson 08 teaches and later lessons reuse: generated from solutions/08_image_to_image.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch


def unet_forward(unet, x):
    # (N, C, H, W) -> (N, out_channels, H, W) through unet.downs, then unet.ups with the skips
    skips = []
    for down in unet.downs:
        x = down(x)                              # (N, w_i, H/2^(i+1), W/2^(i+1))
        skips.append(x)
    skips.pop()                                  # the bottleneck has no mirror
    for up in unet.ups:
        x = up(x)                                # twice the size
        if skips:
            x = torch.cat([x, skips.pop()], dim=1)  # the skip connection: channels side by side
    return x
