"""Checks for lesson 06, controlling what a GAN makes."""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.nn.functional import cross_entropy

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, is_close, passed
from helpers.taught import lesson06


def _built(cls: type, reference_cls: type, **kwargs) -> tuple:
    """The student's model, and the finished one holding its weights, both in eval mode."""
    model = call_exercise(lambda: cls(**kwargs), name=f"{cls.__name__}(...)")
    reference = reference_cls(**kwargs)
    reference.load_state_dict(model.state_dict())
    return model.eval(), reference.eval()


def check_label_conditioning(generator_class: type, discriminator_class: type) -> None:
    """Lesson 06: G concatenates [noise, embedding(label)]; D adds the projection embedding(label) . features."""
    sizes = dict(num_classes=10, hidden_dim=16, image_shape=(1, 8, 8))
    torch.manual_seed(0)
    labels, inputs = torch.arange(12) % 10, {"generator": torch.randn(12, 5), "discriminator": torch.rand(12, 1, 8, 8)}
    for name, cls, reference_cls, kwargs, shape, how in (
            ("generator", generator_class, lesson06.ConditionalGenerator, dict(latent_dim=5, embed_dim=6, **sizes),
             (12, 1, 8, 8), "look each label up in the embedding and join it to the noise, noise first, before "
             "the net (order: [noise, embedding])."),
            ("discriminator", discriminator_class, lesson06.ConditionalDiscriminator, sizes, (12, 1), "the logit from "
             "the features, plus the projection term: the dot product of the label's embedding with the features, "
             "one per image.")):
        model, reference = _built(cls, reference_cls, **kwargs)
        with torch.no_grad():
            out = call_exercise(model, inputs[name], labels, name=f"{cls.__name__}.forward")
            fail_unless_shape(out, shape, f"the {name} should return shape {shape} for a batch of 12",
                              "the generator returns images, (N, *image_shape); the discriminator one logit per image.")
            if is_close(out, model(inputs[name], (labels + 3) % 10), 1e-5):
                fail(f"the {name}'s output does not change when the labels change: it ignores them.", how)
            if not is_close(out, reference(inputs[name], labels), 1e-5):
                fail(f"the {name} uses the labels, but not the way the layers expect.", how)
    passed("Label conditioning: G joins the label's embedding to the noise; D adds embedding(y) · features.")


def check_q_head(discriminator_class: type) -> None:
    """Lesson 06: InfoGAN's D returns (real/fake logit, category logits, continuous codes) from one body."""
    torch.manual_seed(0)
    model, reference = _built(discriminator_class, lesson06.InfoDiscriminator, num_categories=4, num_continuous=3,
                              hidden_dim=16, image_shape=(1, 8, 8))
    images = torch.rand(5, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        out = call_exercise(model, images, name=f"{discriminator_class.__name__}.forward")
        want = reference(images)
    if not isinstance(out, tuple) or len(out) != 3:
        fail("forward should return a tuple of three tensors (logit, category_logits, continuous), got "
             f"{type(out).__name__}{f' of length {len(out)}' if isinstance(out, tuple) else ''}.")
    shapes = [tuple(t.shape) if isinstance(t, Tensor) else None for t in out]
    if shapes != [(5, 1), (5, 4), (5, 3)]:
        fail(f"expected shapes [(5, 1), (5, 4), (5, 3)] for 5 images with K=4 categories and C=3 continuous codes, "
             f"got {shapes}.", "the Q head's K + C outputs are K category logits, then C continuous codes" + (
                 " (the category logits come first)." if shapes[1:] == [(5, 3), (5, 4)] else "."))
    logit, category_logits, continuous = out
    if (category_logits.min() >= 0 and is_close(category_logits.sum(1), torch.ones(5))) or \
            is_close(category_logits.exp().sum(1), torch.ones(5)):
        fail("the category output looks like probabilities (or log-probabilities), not raw logits.",
             "return the raw Q-head outputs; F.cross_entropy applies the softmax itself.")
    if not is_close(logit, want[0], 1e-5):
        fail("the real/fake logit is not d_head applied to the body's features.",
             "both heads read the same features: compute features once, then d_head(features).")
    if not (is_close(category_logits, want[1], 1e-5) and is_close(continuous, want[2], 1e-5)):
        fail("the Q outputs differ from q_head(body(images)) split into [K categories, C codes].",
             "Q reads the shared features (not the logit); its K + C outputs are K category logits, then C codes.")
    passed("Q head: one shared body, a real/fake logit (N, 1), category logits (N, K) and continuous codes (N, C).")


def check_mutual_information_loss(loss_fn: Callable) -> None:
    """Lesson 06: -log of a softmax over the logits is a cross-entropy; -log of a fixed-variance Gaussian is a
    squared error, up to a scale and a constant. L_info = the categories' cross-entropy + continuous_weight times
    the codes' mean squared error, both averaged."""
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0], [-2.0, 2.5, 0.0]])
    category = torch.tensor([0, 2, 1, 0])
    pred = torch.tensor([[0.5, -0.2], [0.9, 0.1], [-0.3, 0.4], [0.0, -0.8]])
    continuous = torch.tensor([[0.4, 0.1], [1.0, -0.5], [-0.9, 0.6], [0.2, -0.7]])
    weight = 0.3  # with 2 codes, neither 1 nor 2 (an unweighted or a summed MSE would match those)
    ce, squares = cross_entropy(logits, category), (pred - continuous) ** 2
    expected = ce + weight * squares.mean()
    got = call_exercise(loss_fn, logits, category, pred, continuous, weight, name="mutual_information_loss")
    fail_unless_one_number(got, "mutual_information_loss")
    expect(got, expected, {
        "a softmax was applied twice: F.cross_entropy takes raw logits.":
            cross_entropy(logits.softmax(1), category) + weight * squares.mean(),
        "continuous_weight was not used: it multiplies the continuous term.": ce + squares.mean(),
        "one of the two terms is missing: there is one for each kind of code.": [ce, weight * squares.mean()],
        "the squared error was summed: average it over the batch and the codes.":
            [ce + weight * squares.sum(1).mean(), ce + weight * squares.sum()],
        "the sign is flipped: maximising mutual information means minimising this loss.": -expected,
    }, f"got {got.item():.4f}, expected {expected.item():.4f}.", "each term is -log Q of a code, averaged: what is "
        "-log of a softmax, and of a Gaussian with a fixed variance, once the constants are dropped?")
    passed(f"Mutual-information loss: {got.item():.4f} = cross-entropy + {weight} × MSE.")
