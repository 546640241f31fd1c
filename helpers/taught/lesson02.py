"""What lesson 02 teaches and later lessons reuse: generated from solutions/02_mnist_gan.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Recipe:
    detach: bool = True            # fix 1: the D step does not backpropagate into G
    reuse_fakes: bool = True       # the G step reuses the D step's fakes (needs detach)
    logits: bool = True            # fix 2: D returns logits, loss = BCEWithLogitsLoss
    betas: tuple = (0.5, 0.999)    # fix 3: Adam's β1 = 0.5 (less momentum)
    real_label: float = 0.9        # fix 4: one-sided label smoothing
    dropout: float = 0.3           # fix 5: dropout in D
    lr: float = 1e-3               # Adam's learning rate, for G and D
    latent_dim: int = 64           # z ∈ ℝ⁶⁴
    hidden: int = 256              # both networks: two hidden layers of this width
    batch_size: int = 64
    ema_decay: float = 0.999       # the averaged G keeps 99.9% of itself per step (section 5)
    least_squares: bool = False    # squared errors on D's raw output instead of BCE (exercise 3)

    def __post_init__(self):
        if self.reuse_fakes and not self.detach:
            raise ValueError("reuse_fakes=True needs detach=True: a D step through G frees the graph the G step uses")


CLASSIC_RECIPE = Recipe(detach=False, reuse_fakes=False, logits=False, betas=(0.9, 0.999), real_label=1.0, dropout=0.0,
                        lr=2e-4)
FINAL_RECIPE = Recipe()


def make_discriminator(dropout: float = 0.0, sigmoid: bool = True,
                       image_shape: tuple = (1, 28, 28), hidden: int = 256) -> nn.Module:
    # Images (N, 1, 28, 28) -> (N, 1): a probability (sigmoid=True) or a logit (sigmoid=False).
    pixels = image_shape[0] * image_shape[1] * image_shape[2]  # 784
    layers = [nn.Flatten()]                                    # (N, 784)
    for n_in, n_out in [(pixels, hidden), (hidden, hidden)]:
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]  # (N, 256)
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 1))                        # (N, 1) logit
    if sigmoid:
        layers.append(nn.Sigmoid())                            # (N, 1) probability
    return nn.Sequential(*layers)


def discriminator_loss(discriminator, real_images, fake_images, criterion, real_label=1.0):
    # L_D of section 4, with `criterion` for BCE -> (d_loss, d_real (N, 1), d_fake (N, 1))
    n = real_images.shape[0]
    scores = discriminator(torch.cat([real_images, fake_images]))     # (2N, 1): one pass over both
    d_real, d_fake = scores[:n], scores[n:]                            # (N, 1) each
    targets = torch.cat([torch.full_like(d_real, real_label), torch.zeros_like(d_fake)])
    d_loss = criterion(scores, targets)     # mean over 2N = (loss_real + loss_fake) / 2
    return d_loss, d_real, d_fake


def generator_loss(discriminator, fake_images, criterion):
    # criterion(D(G(z)), 1): with BCE, mean -log D(G(z)); the gradient flows through D into G.
    d_fake = discriminator(fake_images)
    return criterion(d_fake, torch.ones_like(d_fake))


def ema_update(ema_model, model, decay):
    # Move ema_model's parameters towards model's (decay: the share the average keeps); copy buffers.
    with torch.no_grad():
        for ema_param, param in zip(ema_model.parameters(), model.parameters()):
            ema_param.lerp_(param, 1.0 - decay)           # = decay * ema + (1 - decay) * param
        for ema_buffer, buffer in zip(ema_model.buffers(), model.buffers()):
            ema_buffer.copy_(buffer)
