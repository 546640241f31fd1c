"""What lesson 07 teaches and later lessons reuse: generated from solutions/07_vae_vs_gan.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch
from torch import nn


def reparameterize(mu, logvar):
    # (N, D) means and log-variances -> (N, D) samples from N(mu, σ²), differentiable in mu and logvar
    std = torch.exp(0.5 * logvar)           # σ = exp(½ log σ²)
    return mu + std * torch.randn_like(std)  # ε ~ N(0, I)


def gaussian_kl(mu, logvar):
    # KL(N(mu, σ²) ‖ N(0, I)) for each image: (N, D), (N, D) -> (N,)
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)


def elbo_loss(logits, images, mu, logvar, beta=1.0):
    # -ELBO per image, batch mean -> (loss, reconstruction, kl); images (N, 1, 28, 28) in [-1, 1]
    targets = (images + 1) / 2                                                  # brightness in [0, 1]
    reconstruction = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    reconstruction = reconstruction.flatten(1).sum(dim=1).mean()                # sum pixels, mean images
    kl = gaussian_kl(mu, logvar).mean()                                         # sum dims, mean images
    return reconstruction + beta * kl, reconstruction, kl
