"""What lesson 03 teaches and later lessons reuse: generated from solutions/03_dcgan_celeba.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch
from torch import nn


def g_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """(N, in_channels, H, W) -> (N, out_channels, 2H, 2W): ConvTranspose -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False),  # (N, out, 2H, 2W)
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Generator(nn.Module):
    """Noise (N, latent_dim) -> images (N, channels, S, S) in [-1, 1], S = 64 or 32."""

    def __init__(self, latent_dim: int = 100, feature_maps: int = 64, channels: int = 3,
                 image_size: int = 64) -> None:
        super().__init__()
        widths = [feature_maps * k for k in ((8, 4, 2, 1) if image_size == 64 else (4, 2, 1))]
        self.net = nn.Sequential(
            nn.Sequential(nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),  # (N, widths[0], 4, 4)
                          nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)),
            *[g_block(a, b) for a, b in zip(widths, widths[1:])],  # each doubles the size: ... (N, fm, S/2, S/2)
            g_block(widths[-1], channels)[0],  # its transposed convolution alone: (N, channels, S, S)
            nn.Tanh())                         # pixels in [-1, 1]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])  # (N, latent_dim) -> (N, latent_dim, 1, 1) -> image


def d_block(in_channels: int, out_channels: int, batch_norm: bool = True) -> nn.Sequential:
    """(N, in_channels, H, W) -> (N, out_channels, H/2, W/2): Conv -> [BatchNorm] -> LeakyReLU(0.2)."""
    layers = [nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=False)]  # (N, out, H/2, W/2)
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class Discriminator(nn.Module):
    """Images (N, channels, S, S), S = 64 or 32 -> (N, 1) logits (sigmoid gives P(real))."""

    def __init__(self, feature_maps: int = 64, channels: int = 3, image_size: int = 64) -> None:
        super().__init__()
        widths = [feature_maps * k for k in ((1, 2, 4, 8) if image_size == 64 else (1, 2, 4))]
        self.net = nn.Sequential(
            d_block(channels, widths[0], batch_norm=False),         # (N, fm, S/2, S/2)
            *[d_block(a, b) for a, b in zip(widths, widths[1:])],  # each halves the size: ... (N, widths[-1], 4, 4)
            nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))          # (N, 1, 1, 1): one logit per image

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).flatten(1)  # (N, 1)


def init_weights(module: nn.Module) -> None:
    """DCGAN init, for model.apply: conv weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def generate(generator: nn.Module, noise: torch.Tensor, *conditions: torch.Tensor) -> torch.Tensor:
    """G(noise, *conditions) -> images (N, C, H, W) in [-1, 1], float32 on the CPU; BatchNorm's running averages."""
    was_training = generator.training
    generator.eval()  # BatchNorm: the running averages, untouched; each image depends on its own z only
    with torch.no_grad():  # no graph: sampling needs no gradients
        images = generator(noise, *conditions)
    generator.train(was_training)  # back to the mode it was in
    return images.float().cpu().clamp(-1, 1)
