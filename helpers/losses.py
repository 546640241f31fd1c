"""Loss functions that later lessons build and then reuse (each taught in its lesson first)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


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
