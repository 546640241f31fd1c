"""Loss functions that later lessons build and then reuse (each taught in its lesson first)."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


# --- Lesson 05: why GANs fail, and how to fix them ---


def wgan_critic_loss(critic_real: Tensor, critic_fake: Tensor) -> Tensor:
    """Critic scores (N, 1) on reals and fakes -> scalar mean C(G(z)) - mean C(x) (the critic minimises it)."""
    if critic_real.ndim == 0 or critic_fake.ndim == 0:
        raise ValueError("critic scores must be batches of shape (N, 1), got a 0-d tensor")
    return critic_fake.mean() - critic_real.mean()


def wgan_generator_loss(critic_fake: Tensor) -> Tensor:
    """Critic scores (N, 1) on fakes -> scalar -mean C(G(z)) (the generator minimises it)."""
    if critic_fake.ndim == 0:
        raise ValueError("critic scores must be a batch of shape (N, 1), got a 0-d tensor")
    return -critic_fake.mean()


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor,
                     epsilon: Tensor | None = None) -> Tensor:
    """Reals and fakes (N, ...) -> scalar mean over x̂ of (‖∇C(x̂)‖₂ - 1)², x̂ = ε·x + (1 - ε)·G(z).

    ε (N, 1, ...) is drawn uniformly in [0, 1] unless given. The graph is kept (create_graph)
    so that the penalty trains the critic. Multiply by λ (10 in the WGAN-GP paper) yourself.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    if epsilon is None:
        epsilon = torch.rand(shape, device=real.device, dtype=real.dtype)
    elif epsilon.shape != shape:
        raise ValueError(f"epsilon must have shape {shape}, got {tuple(epsilon.shape)}")
    mixed = (epsilon * real + (1 - epsilon) * fake.detach()).requires_grad_(True)  # (N, ...)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)      # (N, ...)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


# --- Lesson 06: controlling what a GAN makes (IMSAT's consistency term for InfoGAN's Q) ---


def _entropy(probabilities: Tensor) -> Tensor:
    """(..., K) probabilities -> (...) entropies in nats."""
    return -(probabilities * torch.log(probabilities + 1e-8)).sum(dim=-1)


def category_consistency_loss(category_logits: Tensor, moved_logits: Tensor,
                              balance_weight: float = 1.0) -> Tensor:
    """Q's category logits (N, K) on real images and (N, K) on moved copies of them -> scalar.

    KL(p(x) || p(T(x))), averaged over the batch, with p(x) held fixed (detached): Q should give
    a digit and its slightly moved copy T(x) the same category. Minus balance_weight times the
    entropy of the batch-mean prediction (averaged over that of the x and that of the T(x)):
    every category should be used, or Q could put all real digits in one. Self-augmented
    training, as in IMSAT (Hu et al., 2017); it asks nothing of the labels.
    """
    if category_logits.ndim != 2 or category_logits.shape != moved_logits.shape:
        raise ValueError(f"category_logits and moved_logits must both be (N, K), got "
                         f"{tuple(category_logits.shape)} and {tuple(moved_logits.shape)}")
    if balance_weight < 0:
        raise ValueError(f"balance_weight must be ≥ 0, got {balance_weight}")
    probabilities = F.softmax(category_logits, dim=1)                               # (N, K)
    p = probabilities.detach()                                                      # (N, K), fixed target
    consistency = (p * (torch.log(p + 1e-8) - F.log_softmax(moved_logits, dim=1))).sum(dim=1).mean()
    balance = (_entropy(probabilities.mean(0)) + _entropy(F.softmax(moved_logits, dim=1).mean(0))) / 2
    return consistency - balance_weight * balance
