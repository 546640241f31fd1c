"""Loss functions that later lessons build and then reuse (each taught in its lesson first)."""
from __future__ import annotations


# --- Lesson 05: why GANs fail, and how to fix them ---

import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402


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
