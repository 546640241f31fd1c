"""What lesson 04 teaches and later lessons reuse: generated from solutions/04_style_transfer.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch
from torch import nn


def gram_matrix(features):
    """(N, C, H, W) feature maps -> (N, C, C) Gram matrices, divided by C*H*W."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)                # (N, C, HW)
    return flat @ flat.transpose(1, 2) / (c * h * w)    # (N, C, C)


def content_loss(features, target):
    """Mean squared difference of (N, C, H, W) features and their target -> a scalar."""
    return nn.functional.mse_loss(features, target)


def style_loss(grams, target_grams):
    """Sum over layers of the mean squared difference of (N, C, C) Gram matrices -> a scalar."""
    return sum(nn.functional.mse_loss(g, t) for g, t in zip(grams, target_grams))


def tv_loss(image):
    """Total variation of (N, C, H, W) images: mean |vertical step| + mean |horizontal step|."""
    vertical = image[:, :, 1:, :] - image[:, :, :-1, :]     # (N, C, H-1, W)
    horizontal = image[:, :, :, 1:] - image[:, :, :, :-1]   # (N, C, H, W-1)
    return vertical.abs().mean() + horizontal.abs().mean()


def style_transfer_loss(extractor, content_image, style_image, weights, content_layer, style_layers):
    """The total loss of an image: (1, 3, H, W) -> (weighted total, {each term as a float}).

    weights = (alpha, beta, gamma); the photo's features and the painting's Gram matrices are computed here, once.
    """
    content_weight, style_weight, tv_weight = weights
    with torch.no_grad():  # targets: computed once, outside the loop
        content_target = extractor(content_image)[content_layer]
        style_features = extractor(style_image)
        style_targets = [gram_matrix(style_features[name]) for name in style_layers]

    def total_loss(image):
        features = extractor(image)
        c_loss = content_loss(features[content_layer], content_target)
        s_loss = style_loss([gram_matrix(features[name]) for name in style_layers], style_targets)
        t_loss = tv_loss(image)
        total = content_weight * c_loss + style_weight * s_loss + tv_weight * t_loss
        return total, {"total": total.item(), "content": c_loss.item(), "style": s_loss.item(), "tv": t_loss.item()}
    return total_loss


def make_closure(optimizer, loss_fn):
    """closure() for optimizer.step: zero the gradients, evaluate loss_fn() -> scalar, backpropagate, return it."""
    def closure():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()  # evaluated at the current pixels, on every call
        loss.backward()   # the gradients of this evaluation only
        return loss       # the tensor itself: step(closure) hands it back
    return closure
