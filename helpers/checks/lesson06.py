"""Checks for lesson 06, controlling what a GAN makes."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from helpers import models
from helpers.checks import call_exercise, fail, fail_unless_one_number, is_close, passed


def _same(a: Tensor, b: Tensor, tol: float = 1e-5) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=tol, rtol=tol)


def check_label_conditioning(generator_class: type, discriminator_class: type) -> None:
    """Lesson 06: G concatenates [noise, embedding(label)]; D adds the projection embedding(label) . features."""
    sizes = dict(num_classes=10, hidden_dim=16, image_shape=(1, 8, 8))
    torch.manual_seed(0)
    noise, labels = torch.randn(12, 5), torch.arange(12) % 10
    other_labels = (labels + 3) % 10
    for name, cls, ref_cls, kwargs in (
            ("generator", generator_class, models.ConditionalGenerator, dict(latent_dim=5, embed_dim=6, **sizes)),
            ("discriminator", discriminator_class, models.ConditionalDiscriminator, sizes)):
        model = call_exercise(lambda: cls(**kwargs), name=f"{cls.__name__}(...)")
        reference = ref_cls(**kwargs)
        reference.load_state_dict(model.state_dict())
        model.eval(), reference.eval()
        with torch.no_grad():
            if name == "generator":
                args, other = (noise, labels), (noise, other_labels)
                expected_shape = (12, 1, 8, 8)
            else:
                images = torch.rand(12, 1, 8, 8) * 2 - 1
                args, other = (images, labels), (images, other_labels)
                expected_shape = (12, 1)
            out = call_exercise(model, *args, name=f"{cls.__name__}.forward")
            want = reference(*args)
            if not isinstance(out, Tensor) or tuple(out.shape) != expected_shape:
                got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                fail(f"the {name} should return shape {expected_shape} for a batch of 12, got {got}.",
                     "the generator returns images, (N, *image_shape); the discriminator one logit per image.")
            how = ("look each label up in the embedding and join it to the noise, noise first, before the net."
                   if name == "generator" else "the logit from the features, plus the projection term: the dot "
                   "product of the label's embedding with the features, one per image.")
            if _same(out, model(*other)):
                fail(f"the {name}'s output does not change when the labels change: it ignores them.", how)
            if not _same(out, want):
                fail(f"the {name} uses the labels, but not the way the layers expect "
                     f"({'order: [noise, embedding]' if name == 'generator' else 'the projection term'}).", how)
    passed("Label conditioning: G concatenates the label's embedding with the noise; D adds the "
           "projection embedding(y) · features to its logit.")


def check_q_head(discriminator_class: type) -> None:
    """Lesson 06: InfoGAN's D returns (real/fake logit, category logits, continuous codes) from one body."""
    kwargs = dict(num_categories=4, num_continuous=3, hidden_dim=16, image_shape=(1, 8, 8))
    torch.manual_seed(0)
    model = call_exercise(lambda: discriminator_class(**kwargs), name=f"{discriminator_class.__name__}(...)")
    reference = models.InfoDiscriminator(**kwargs)
    reference.load_state_dict(model.state_dict())
    model.eval(), reference.eval()
    images = torch.rand(5, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        out = call_exercise(model, images, name=f"{discriminator_class.__name__}.forward")
        want = reference(images)
    if not isinstance(out, tuple) or len(out) != 3:
        fail(f"forward should return a tuple of three tensors (logit, category_logits, continuous), "
             f"got {type(out).__name__}{'' if not isinstance(out, tuple) else f' of length {len(out)}'}.")
    shapes = [tuple(t.shape) if isinstance(t, Tensor) else None for t in out]
    expected = [(5, 1), (5, 4), (5, 3)]
    if shapes != expected:
        hint = "the Q head's K + C outputs are K category logits, then C continuous codes."
        if shapes[1:] == [(5, 3), (5, 4)]:
            hint = "the category logits come first (the first K outputs of the Q head), then the continuous codes."
        fail(f"expected shapes {expected} for 5 images with K=4 categories and C=3 continuous codes, "
             f"got {shapes}.", hint)
    logit, category_logits, continuous = out
    ones = torch.ones(5)
    if (category_logits.min() >= 0 and torch.allclose(category_logits.sum(1), ones, atol=1e-4)) or \
            torch.allclose(category_logits.exp().sum(1), ones, atol=1e-4):
        fail("the category output looks like probabilities (or log-probabilities), not raw logits.",
             "return the raw Q-head outputs; F.cross_entropy applies the softmax itself.")
    if not _same(logit, want[0]):
        fail("the real/fake logit is not d_head applied to the body's features.",
             "both heads read the same features: compute features once, then d_head(features).")
    if not (_same(category_logits, want[1]) and _same(continuous, want[2])):
        fail("the Q outputs differ from q_head(body(images)) split into [K categories, C codes].",
             "Q reads the shared features (not the logit); its K + C outputs are K category logits, then C codes.")
    passed("Q head: one shared body, a real/fake logit (N, 1), category logits (N, K) and "
           "continuous codes (N, C).")


def check_mutual_information_loss(loss_fn: Callable) -> None:
    """Lesson 06: -log of a softmax over the logits is a cross-entropy; -log of a fixed-variance Gaussian is a
    squared error, up to a scale and a constant. L_info = the categories' cross-entropy + continuous_weight times
    the codes' mean squared error, both averaged."""
    category_logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0], [-2.0, 2.5, 0.0]])
    category = torch.tensor([0, 2, 1, 0])
    continuous_pred = torch.tensor([[0.5, -0.2], [0.9, 0.1], [-0.3, 0.4], [0.0, -0.8]])
    continuous = torch.tensor([[0.4, 0.1], [1.0, -0.5], [-0.9, 0.6], [0.2, -0.7]])
    weight = 0.3  # with 2 codes, neither 1 nor 2 (an unweighted or a summed MSE would match those)
    ce = torch.nn.functional.cross_entropy(category_logits, category)
    mse = ((continuous_pred - continuous) ** 2).mean()
    expected = ce + weight * mse
    got = call_exercise(loss_fn, category_logits, category, continuous_pred, continuous, weight,
                name="mutual_information_loss")
    fail_unless_one_number(got, f"mutual_information_loss should return a single-number tensor, got {got!r}.")
    if is_close(got, expected):
        passed(f"Mutual-information loss: {got.item():.4f} = cross-entropy {ce.item():.4f} "
               f"+ {weight} × MSE {mse.item():.4f}.")
        return
    probs_ce = torch.nn.functional.cross_entropy(category_logits.softmax(1), category)
    if is_close(got, probs_ce + weight * mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: a softmax was applied twice.",
             "F.cross_entropy takes raw logits; do not softmax them first.")
    if is_close(got, ce + mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: continuous_weight was not used.",
             "multiply the continuous term by continuous_weight.")
    if is_close(got, ce) or is_close(got, weight * mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: one of the two terms is missing.",
             "L_info has a term for each kind of code, the categorical one and the continuous ones.")
    if is_close(got, ce + weight * ((continuous_pred - continuous) ** 2).sum(1).mean()) or is_close(
            got, ce + weight * ((continuous_pred - continuous) ** 2).sum()):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: the squared error was summed.",
             "average it over the batch and the codes (a mean squared error), do not sum it.")
    if is_close(got, -expected):
        fail(f"got {got.item():.4f}: the sign is flipped.",
             "this is a loss to minimise; maximising mutual information means minimising it.")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f}.",
         "each term is -log Q of a code, averaged: what is -log of a softmax, and of a Gaussian with a fixed "
         "variance, once the constants are dropped?")
