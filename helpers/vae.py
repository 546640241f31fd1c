"""The variational autoencoder of lesson 07: an MLP encoder and decoder. The pieces of the ELBO
(the reparameterised sample, the Gaussian KL, the loss) are the lesson's exercises: their one copy
is helpers/taught/lesson07.py, generated from the solution.

Kingma & Welling, "Auto-Encoding Variational Bayes" (2014); β-VAE: Higgins et al. (2017).
Images are (N, C, H, W) in [-1, 1], as everywhere in the course; the decoder models each pixel's
brightness in [0, 1] as a Bernoulli mean, so it returns logits and the loss is binary cross-entropy.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class VAE(nn.Module):
    """encode: images (N, C, H, W) -> (mu, logvar), each (N, latent_dim); decode: z -> logits (N, C, H, W)."""

    def __init__(self, latent_dim: int = 16, hidden_dim: int = 400,
                 image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        for name, size in (("latent_dim", latent_dim), ("hidden_dim", hidden_dim)):
            if not isinstance(size, int) or size <= 0:
                raise ValueError(f"{name} must be a positive int, got {size!r}")
        if len(image_shape) != 3 or not all(isinstance(s, int) and s > 0 for s in image_shape):
            raise ValueError(f"image_shape must be (C, H, W) of positive ints, got {image_shape!r}")
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.encoder = nn.Sequential(
            nn.Flatten(),                              # (N, C*H*W)
            nn.Linear(pixels, hidden_dim), nn.ReLU(),  # (N, hidden_dim)
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, 2 * latent_dim),     # (N, 2 * latent_dim): mu and log σ²
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(),  # (N, hidden_dim)
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, pixels),                 # (N, C*H*W) logits
            nn.Unflatten(1, self.image_shape),             # (N, C, H, W)
        )

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Images (N, C, H, W) in [-1, 1] -> mu (N, latent_dim), logvar = log σ² (N, latent_dim)."""
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Latent codes (N, latent_dim) -> pixel logits (N, C, H, W)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    @torch.no_grad()
    def generate(self, z: Tensor) -> Tensor:
        """Latent codes (N, latent_dim) -> images (N, C, H, W) in [-1, 1]: each pixel's mean brightness."""
        return torch.sigmoid(self.decode(z)) * 2 - 1

