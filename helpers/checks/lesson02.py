"""Checks for lesson 02, a fully connected GAN on MNIST."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parameters_to_vector as flat

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, passed


def check_image_discriminator(make_discriminator: Callable[..., nn.Module]) -> None:
    """Lesson 02: make_discriminator(dropout, sigmoid) maps (N, 1, 28, 28) images to (N, 1)."""
    torch.manual_seed(0)
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    discriminator = call_exercise(make_discriminator, 0.0, True, name="make_discriminator")
    if not isinstance(discriminator, nn.Module):
        fail(f"make_discriminator() should return an nn.Module, got {type(discriminator).__name__}.")
    try:
        out = discriminator(images).detach()
    except RuntimeError as error:
        if "shapes cannot be multiplied" in str(error) or "mat1" in str(error):
            fail(f"D failed on images of shape (16, 1, 28, 28): {str(error).splitlines()[0]}",
                 "a Linear layer wants (N, 784) rows: start with nn.Flatten() to turn each 28×28 image into "
                 "784 numbers.")
        raise
    fail_unless_shape(out, (16, 1), "D(images) for images (16, 1, 28, 28) should have shape (16, 1)",
                      "the last Linear layer has out_features=1, and nn.Flatten() comes first.")
    if out.max() - out.min() < 1e-6:
        fail(f"D gives the same output ({out[0, 0]:.4g}) for every input, so it cannot tell real from fake.",
             "end with nn.Sigmoid(), not Softmax: a softmax over one number is always 1.")
    if out.min() <= 0 or out.max() >= 1:
        fail(f"D with sigmoid=True should output probabilities strictly between 0 and 1, got values from "
             f"{out.min():.3g} to {out.max():.3g}.", "end the network with nn.Sigmoid() (ReLU is not bounded).")
    sizes = [(m.in_features, m.out_features) for m in discriminator.modules() if isinstance(m, nn.Linear)]
    if sizes != [(784, 256), (256, 256), (256, 1)]:
        fail(f"expected Linear layers 784→256, 256→256, 256→1, got {sizes}.",
             "the course discriminator is 784 → 256 → 256 → 1 with LeakyReLU(0.2) between.")
    slopes = [m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)]
    if not slopes or any(abs(slope - 0.2) > 1e-9 for slope in slopes):
        fail(f"the LeakyReLU slopes are {slopes}; the course discriminator uses 0.2 between the Linear layers.",
             "nn.LeakyReLU(0.2) keeps a gradient for negative inputs, which G needs; PyTorch's default slope "
             "0.01 leaves G almost none.")
    logits = call_exercise(make_discriminator, 0.0, False, name="make_discriminator")(images)
    if logits.min() >= 0 and logits.max() <= 1:
        fail("with sigmoid=False, D should return raw logits (any real number), but all outputs lie in [0, 1].",
             "add nn.Sigmoid() only when sigmoid=True.")
    for dropout, model in ((0.3, call_exercise(make_discriminator, 0.3, False, name="make_discriminator")),
                           (0.0, discriminator)):
        drops = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
        if drops != [dropout] * len(drops) or bool(drops) != (dropout > 0):
            fail(f"make_discriminator(dropout={dropout}) should put {'no Dropout' if not dropout else 'nn.Dropout'}"
                 f" after the hidden layers; found dropout probabilities {drops}.",
                 "add nn.Dropout(dropout) when dropout > 0.")
    passed(f"Discriminator: (16, 1, 28, 28) -> (16, 1), layers 784→256→256→1, "
           f"{sum(p.numel() for p in discriminator.parameters()):,} parameters; sigmoid and dropout options work.")


def check_discriminator_loss(discriminator_loss: Callable) -> None:
    """Lesson 02: (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, returning (d_loss, D(x), D(G(z)))."""
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Unflatten(1, (1, 3, 4)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))
    real, fake = torch.rand(6, 1, 3, 4) * 2 - 1, generator(torch.randn(6, 4)).detach()
    bce = nn.BCEWithLogitsLoss()
    real_out, fake_out = discriminator(real).detach(), discriminator(fake).detach()
    ones, zeros = torch.ones_like(real_out), torch.zeros_like(fake_out)
    for label in (1.0, 0.9):
        got = call_exercise(discriminator_loss, discriminator, real, fake, bce, label, name="discriminator_loss")
        if not isinstance(got, tuple) or len(got) != 3:
            fail(f"discriminator_loss should return (d_loss, d_real, d_fake), got {type(got).__name__}.")
        d_loss, d_real, d_fake = got
        fail_unless_one_number(d_loss, "d_loss")
        if not d_loss.requires_grad:
            fail("d_loss carries no gradient, so D cannot learn from it.",
                 "do not compute it under torch.no_grad(), and do not call .item() on it.")
        expected = (bce(real_out, label * ones) + bce(fake_out, zeros)) / 2
        expect(d_loss, expected, {
            (f"d_loss = {d_loss.item():.4f} is twice the expected {expected.item():.4f}.",
             "average the two terms: (loss_real + loss_fake) / 2."): 2 * expected,
            (f"with real_label={label} the loss ignored label smoothing.", "label the real images real_label "
             "(e.g. 0.9), not 1: torch.full_like(out, real_label)."): (bce(real_out, ones) + bce(fake_out, zeros)) / 2
            if label != 1.0 else math.nan,
            "the labels are swapped: reals must be labelled real_label (≈1) and fakes 0.":
                (bce(real_out, zeros) + bce(fake_out, label * ones)) / 2,
            ("smoothing was applied to the fakes too (labelled 0.1).", "one-sided: only the real labels become 0.9; "
             "fakes stay 0."): (bce(real_out, label * ones) + bce(fake_out, 1 - label + zeros)) / 2
            if label != 1.0 else math.nan,
        }, f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} (real_label={label}).",
            "the mean of two BCE terms: D's outputs on reals against real_label, on fakes against 0.")
    if not (torch.allclose(d_real, real_out) and torch.allclose(d_fake, fake_out)):
        fail("d_real and d_fake should be D's outputs on the real and the fake batch, shape (N, 1).")
    passed(f"D loss: {d_loss.item():.4f} = (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, "
           "label smoothing one-sided.")


def check_least_squares(least_squares: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Lesson 02: the least-squares criterion: mean over the batch of (score - target)², on D's raw scores.

    With it, the averaged D loss is Mao et al.'s L_D = 1/2 E[(D(x) - 1)²] + 1/2 E[D(G(z))²], and
    generator_loss gives E[(D(G(z)) - 1)²], twice their L_G. The gradient must reach the scores.
    """
    torch.manual_seed(0)
    scores = (torch.randn(6, 1) * 3).requires_grad_(True)
    targets = torch.tensor([[1.0], [0.9], [0.0], [1.0], [0.0], [0.0]])
    got = call_exercise(least_squares, scores, targets, name="least_squares")
    fail_unless_one_number(got, "least_squares (a mean over the batch)")
    if not got.requires_grad:
        fail("the loss carries no gradient back to D's scores, so neither D nor G could learn from it.",
             "do not compute it under torch.no_grad(), detach the scores or call .item().")
    s, value = scores.detach(), got.detach()
    diff = s - targets
    expected = (diff ** 2).mean()
    start = f"least_squares = {value.item():.4f}, expected {expected.item():.4f}: "
    expect(value, expected, {
        (start + "that is the sum over the batch: the loss, and its gradients, would grow with the batch size.",
         "average over the batch instead."): (diff ** 2).sum(),
        (start + "that is half the mean squared error. The ½ of Mao et al.'s L_D is already in your "
         "discriminator_loss, which averages its two terms.", "return the plain mean squared error."):
            0.5 * expected,
        (start + "that compares σ(score), a probability, with the labels: the sigmoid goes flat again for large "
         "scores, the very thing least squares avoids.", "LSGAN's D ends in a linear layer: use the raw scores "
         "as they come."): ((torch.sigmoid(s) - targets) ** 2).mean(),
        (start + "that is the mean absolute error (L1), whose slope stays the same size however close the score "
         "is to its target.", "square the differences."): diff.abs().mean(),
        (start + "that ignores the targets: every score is pulled towards 0, reals included.",
         "measure each score against its own target."): (s ** 2).mean(),
        (start + "that squares the mean difference: errors of opposite signs cancel before squaring.",
         "square each difference first, then average."): diff.mean() ** 2,
    }, start + "for these scores and targets.",
        "one number: the squared error of each score against its target, averaged over the batch.")
    grad, = torch.autograd.grad(got, scores)
    if not torch.allclose(grad, 2 * diff / len(s), atol=1e-5):
        fail("the value is right but its gradient with respect to the scores is not.",
             "compute it from the scores with tensor operations, without detaching any part.")
    passed(f"Least squares: {value.item():.4f} = mean squared error of the raw scores against their labels, "
           "gradient into the scores.")


def _ema_models(requires_grad: bool) -> tuple[nn.Module, nn.Module]:
    """A small model with a BatchNorm (weights and buffers), and its average, both moved apart."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema_model = copy.deepcopy(model).requires_grad_(requires_grad)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param))            # G has trained since the last update
        model[1].running_mean.add_(1.0)
        model[1].running_var.mul_(2.0)
        model[1].num_batches_tracked.add_(5)
    return ema_model, model


def _call_ema(ema_update: Callable, ema_model: nn.Module, model: nn.Module, what: str) -> None:
    try:
        call_exercise(ema_update, ema_model, model, 0.9, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail(f"{what}, ema_update changes a weight that requires grad in place while autograd records.",
             "do the update under torch.no_grad(), and change ema_model, not model.")


def check_ema_update(ema_update: Callable[[nn.Module, nn.Module, float], None]) -> None:
    """Lesson 02: theta_ema <- decay * theta_ema + (1 - decay) * theta in place, buffers copied."""
    ema_model, model = _ema_models(requires_grad=False)  # as train_gan makes it
    ema_before, model_before = flat(ema_model.parameters()).detach(), flat(model.parameters()).detach()
    ema_buffers = torch.cat([b.double().flatten() for b in ema_model.buffers()])
    model_buffers = torch.cat([b.double().flatten() for b in model.buffers()])
    _call_ema(ema_update, ema_model, model, "on a model and its average")
    if not torch.allclose(flat(model.parameters()).detach(), model_before):
        fail("ema_update changed the model's weights; only the average should move.",
             "the first argument is the average: update ema_model's parameters towards model's.")
    if any(p.requires_grad or p.grad_fn is not None for p in ema_model.parameters()):
        fail("the averaged weights now carry an autograd graph back into G's weights (it grows every step).",
             "do the update under torch.no_grad().")
    got = flat(ema_model.parameters()).detach()
    hint = "keep `decay` of the old average: decay * ema + (1 - decay) * model, for every parameter, in place."
    expect(got, 0.9 * ema_before + 0.1 * model_before, {
        ("the averaged weights did not change.",
         "`ema_param = ...` only rebinds a name; update the tensor in place (mul_, add_, lerp_ or copy_)."): ema_before,
        ("the decay is applied the wrong way round: the average kept 10% of itself for decay = 0.9.", hint):
            0.1 * ema_before + 0.9 * model_before,
        ("the averaged weights were replaced by the model's, not averaged.", hint): model_before,
    }, "the averaged weights are not decay * ema + (1 - decay) * model.", hint, tol=1e-6)
    buffers = torch.cat([b.double().flatten() for b in ema_model.buffers()])
    if not torch.equal(buffers, model_buffers):
        fail("the buffers (BatchNorm's running mean and variance) were not copied." if torch.equal(
             buffers, ema_buffers) else "the buffers were averaged; they are statistics of the current G, not weights.",
             "copy each of the model's buffers into the average's, in place.")
    _call_ema(ema_update, *_ema_models(requires_grad=True), "on a plain copy.deepcopy(model)")
    passed("EMA update: decay 0.9 keeps 90% of the average, buffers copied, model untouched, no graph recorded.")


def check_mnist_gan(fd: float, real_vs_real: float, coverage: int, max_fd: float,
                    min_coverage: int = 10, smoke: bool = False) -> None:
    """Lesson 02: the trained GAN's Fréchet distance and class coverage reach the targets (not checked in smoke
    mode, a run shrunk to seconds)."""
    if smoke:
        print(f"Smoke mode: a short run, the targets (Fréchet distance ≤ {max_fd}, {min_coverage}/10 classes) "
              "are not checked.")
        return
    if not math.isfinite(fd):
        fail(f"the Fréchet distance is {fd}: training diverged.")
    if coverage < min_coverage:
        fail(f"only {coverage} of 10 classes hold ≥ 5% of the samples (need {min_coverage}).",
             "that is mode collapse: check the detach, the betas (0.5, 0.999) and dropout in D.")
    if fd > max_fd:
        fail(f"Fréchet distance {fd:.1f} is above {max_fd} (real vs real: {real_vs_real:.2f}).",
             "train longer, or check the fixes one by one.")
    passed(f"Trained GAN: Fréchet distance {fd:.1f} (real vs real {real_vs_real:.2f}, limit {max_fd}), "
           f"{coverage}/10 classes covered.")
