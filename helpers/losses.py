"""Losses that later lessons build and then reuse (each taught in its lesson first)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F


def _entropy(probabilities: Tensor) -> Tensor:
    """(..., K) probabilities -> (...) entropies in nats."""
    return -(probabilities * torch.log(probabilities + 1e-8)).sum(dim=-1)


def category_consistency_loss(category_logits: Tensor, moved_logits: Tensor, balance_weight: float = 1.0) -> Tensor:
    """Q's category logits (N, K) on real images x and moved copies T(x) -> scalar (IMSAT, Hu et al. 2017):
    KL(p(x) || p(T(x))), p(x) held fixed, so that a moved digit keeps its category, minus balance_weight times the
    entropy of the batch-mean prediction (of x and T(x), averaged), so that every category is used."""
    if category_logits.ndim != 2 or category_logits.shape != moved_logits.shape:
        raise ValueError(f"category_logits and moved_logits must both be (N, K), got "
                         f"{tuple(category_logits.shape)} and {tuple(moved_logits.shape)}")
    if balance_weight < 0:
        raise ValueError(f"balance_weight must be ≥ 0, got {balance_weight}")
    probabilities = F.softmax(category_logits, dim=1)  # (N, K)
    p = probabilities.detach()                         # (N, K), a fixed target
    consistency = (p * (torch.log(p + 1e-8) - F.log_softmax(moved_logits, dim=1))).sum(dim=1).mean()
    balance = (_entropy(probabilities.mean(0)) + _entropy(F.softmax(moved_logits, dim=1).mean(0))) / 2
    return consistency - balance_weight * balance
