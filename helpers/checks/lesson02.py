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
        if "mat1" not in str(error):
            raise
        fail(f"D failed on images of shape (16, 1, 28, 28): {str(error).splitlines()[0]}",
             "a Linear layer wants (N, 784) rows: start with nn.Flatten().")
    fail_unless_shape(out, (16, 1), "D(images) for images (16, 1, 28, 28) should have shape (16, 1)",
                      "the last Linear layer has out_features=1, and nn.Flatten() comes first.")
    if out.max() - out.min() < 1e-6:
        fail(f"D gives the same output ({out[0, 0]:.4g}) for every input, so it cannot tell real from fake.",
             "end with nn.Sigmoid(), not Softmax: a softmax over one number is always 1.")
    if out.min() <= 0 or out.max() >= 1:
        fail(f"with sigmoid=True D should output probabilities strictly between 0 and 1, got {out.min():.3g} to "
             f"{out.max():.3g}.", "end the network with nn.Sigmoid() (ReLU is not bounded).")
    sizes = [(m.in_features, m.out_features) for m in discriminator.modules() if isinstance(m, nn.Linear)]
    if sizes != [(784, 256), (256, 256), (256, 1)]:
        fail(f"expected Linear layers 784→256, 256→256, 256→1, got {sizes}.", "LeakyReLU(0.2) between them.")
    slopes = [m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)]
    if not slopes or any(abs(slope - 0.2) > 1e-9 for slope in slopes):
        fail(f"the LeakyReLU slopes are {slopes}; the course discriminator uses 0.2 between the Linear layers.",
             "PyTorch's default slope 0.01 leaves G almost no gradient through D's negative side.")
    logits = call_exercise(make_discriminator, 0.0, False, name="make_discriminator")(images)
    if logits.min() >= 0 and logits.max() <= 1:
        fail("with sigmoid=False, D should return raw logits, but all outputs lie in [0, 1].", "no nn.Sigmoid().")
    for dropout, model in ((0.3, call_exercise(make_discriminator, 0.3, False, name="make_discriminator")),
                           (0.0, discriminator)):
        drops = [m.p for m in model.modules() if isinstance(m, nn.Dropout)]
        if drops != [dropout] * len(drops) or bool(drops) != (dropout > 0):
            fail(f"make_discriminator(dropout={dropout}) has dropout probabilities {drops}.",
                 "put nn.Dropout(dropout) after the hidden layers when dropout > 0, none otherwise.")
    passed("Discriminator: (16, 1, 28, 28) -> (16, 1), layers 784→256→256→1; sigmoid and dropout options work.")


def check_discriminator_loss(discriminator_loss: Callable) -> None:
    """Lesson 02: (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, returning (d_loss, D(x), D(G(z)))."""
    torch.manual_seed(0)
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))
    real, fake, bce = torch.rand(6, 1, 3, 4) * 2 - 1, torch.randn(6, 1, 3, 4).tanh(), nn.BCEWithLogitsLoss()
    real_out, fake_out = discriminator(real).detach(), discriminator(fake).detach()
    ones, zeros = torch.ones_like(real_out), torch.zeros_like(fake_out)
    for label in (1.0, 0.9):
        got = call_exercise(discriminator_loss, discriminator, real, fake, bce, label, name="discriminator_loss")
        if not isinstance(got, tuple) or len(got) != 3:
            fail(f"discriminator_loss should return (d_loss, d_real, d_fake), got {type(got).__name__}.")
        d_loss, d_real, d_fake = got
        fail_unless_one_number(d_loss, "d_loss")
        if not d_loss.requires_grad:
            fail("d_loss carries no gradient, so D cannot learn from it.", "no torch.no_grad(), no .item().")
        expected = (bce(real_out, label * ones) + bce(fake_out, zeros)) / 2
        smoothed = math.nan if label == 1.0 else 0  # a NaN matches nothing: smoothing mistakes show at 0.9 only
        expect(d_loss, expected, {
            "d_loss is twice the expected value: average the two terms.": 2 * expected,
            f"with real_label={label} the loss ignored label smoothing: label the reals real_label, not 1.":
                (bce(real_out, ones) + bce(fake_out, zeros)) / 2 + smoothed,
            "the labels are swapped: reals must be labelled real_label (≈1) and fakes 0.":
                (bce(real_out, zeros) + bce(fake_out, label * ones)) / 2,
            "smoothing was applied to the fakes too (labelled 0.1): it is one-sided, fakes stay 0.":
                (bce(real_out, label * ones) + bce(fake_out, 1 - label + zeros)) / 2 + smoothed,
        }, f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} (real_label={label}).",
            "the mean of two BCE terms: D's outputs on reals against real_label, on fakes against 0.")
    if not (torch.allclose(d_real, real_out) and torch.allclose(d_fake, fake_out)):
        fail("d_real and d_fake should be D's outputs on the real and the fake batch, shape (N, 1).")
    passed(f"D loss: {d_loss.item():.4f} = (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, smoothing one-sided.")


def check_least_squares(least_squares: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Lesson 02: the least-squares criterion: mean over the batch of (score - target)², on D's raw scores.
    The averaged D loss is then Mao et al.'s L_D = 1/2 E[(D(x) - 1)²] + 1/2 E[D(G(z))²]."""
    torch.manual_seed(0)
    scores = (torch.randn(6, 1) * 3).requires_grad_(True)
    targets = torch.tensor([[1.0], [0.9], [0.0], [1.0], [0.0], [0.0]])
    got = call_exercise(least_squares, scores, targets, name="least_squares")
    fail_unless_one_number(got, "least_squares (a mean over the batch)")
    if not got.requires_grad:
        fail("the loss carries no gradient back to D's scores.", "no torch.no_grad(), .detach() or .item().")
    s, value = scores.detach(), got.detach()
    diff = s - targets
    expect(value, (diff ** 2).mean(), {
        "that is the sum over the batch: the loss would grow with the batch size; average instead.": (diff ** 2).sum(),
        "that is half the mean squared error; discriminator_loss already halves.": 0.5 * (diff ** 2).mean(),
        "that compares σ(score) with the labels: the sigmoid goes flat for large scores, what least squares avoids; "
        "use the raw scores.": ((torch.sigmoid(s) - targets) ** 2).mean(),
        "that is the mean absolute error (L1): its slope does not shrink near the target.": diff.abs().mean(),
        "that ignores the targets: every score is pulled towards 0.": (s ** 2).mean(),
        "that squares the mean difference: errors of opposite signs cancel; square each one first.": diff.mean() ** 2,
    }, f"least_squares = {value.item():.4f}, expected {(diff ** 2).mean().item():.4f}.",
        "the squared error of each score against its target, averaged over the batch.")
    if not torch.allclose(torch.autograd.grad(got, scores)[0], 2 * diff / len(s), atol=1e-5):
        fail("the value is right but its gradient is not.", "use tensor operations on the scores, no detaching.")
    passed(f"Least squares: {value.item():.4f}, the mean squared error of the raw scores, gradient into the scores.")


def check_ema_update(ema_update: Callable[[nn.Module, nn.Module, float], None]) -> None:
    """Lesson 02: theta_ema <- decay * theta_ema + (1 - decay) * theta in place, buffers copied."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))  # weights and buffers
    ema_model = copy.deepcopy(model)
    with torch.no_grad():  # G has trained since the last update
        for tensor in (*model.parameters(), model[1].running_mean, model[1].running_var):
            tensor.add_(torch.rand_like(tensor) + 1)
        model[1].num_batches_tracked.add_(5)
    ema_before, model_before = flat(ema_model.parameters()).detach(), flat(model.parameters()).detach()
    ema_buffers, model_buffers = (torch.cat([b.double().flatten() for b in m.buffers()]) for m in (ema_model, model))
    try:
        call_exercise(ema_update, ema_model, model, 0.9, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail("ema_update changes weights in place while autograd records: an autograd graph of every step.",
             "update ema_model, not model, under torch.no_grad().")
    if not torch.equal(flat(model.parameters()).detach(), model_before):
        fail("ema_update changed the model's weights; only the average should move.", "the first argument.")
    if any(p.grad_fn is not None for p in ema_model.parameters()):
        fail("the averaged weights carry an autograd graph into G's weights.", "update under torch.no_grad().")
    expect(flat(ema_model.parameters()).detach(), 0.9 * ema_before + 0.1 * model_before, {
        "the averaged weights did not change: `ema_param = ...` only rebinds a name.": ema_before,
        "the decay is applied the wrong way round: the average kept 10% of itself.":
            0.1 * ema_before + 0.9 * model_before,
        "the averaged weights were replaced by the model's, not averaged.": model_before,
    }, "the averaged weights are not decay * ema + (1 - decay) * model.", "update each one in place.", tol=1e-6)
    buffers = torch.cat([b.double().flatten() for b in ema_model.buffers()])
    if not torch.equal(buffers, model_buffers):
        fail("the buffers (BatchNorm's running mean and variance) were " + (
             "not copied." if torch.equal(buffers, ema_buffers) else "averaged; they describe the current G."),
             "copy each of the model's buffers into the average's.")
    passed("EMA update: decay 0.9 keeps 90% of the average, buffers copied, model untouched, no graph recorded.")


def check_mnist_gan(fd: float, real_vs_real: float, coverage: int, max_fd: float,
                    min_coverage: int = 10, smoke: bool = False) -> None:
    """Lesson 02: the Fréchet distance and class coverage reach the targets (not checked in a smoke run)."""
    if smoke:
        print(f"Smoke mode: the targets (Fréchet distance ≤ {max_fd}, {min_coverage}/10 classes) are not checked.")
        return
    if not math.isfinite(fd):
        fail(f"the Fréchet distance is {fd}: training diverged.")
    if coverage < min_coverage:
        fail(f"only {coverage} of 10 classes hold ≥ 5% of the samples (need {min_coverage}).",
             "that is mode collapse: check the detach, the betas (0.5, 0.999) and dropout in D.")
    if fd > max_fd:
        fail(f"Fréchet distance {fd:.1f} is above {max_fd} (real vs real: {real_vs_real:.2f}).",
             "train longer, or check the fixes one by one.")
    passed(f"Trained GAN: Fréchet distance {fd:.1f} (real vs real {real_vs_real:.2f}), {coverage}/10 classes.")
