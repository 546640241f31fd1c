"""Checks for lesson 02, a fully connected GAN on MNIST."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn

from helpers.checks import (call_exercise, check_probabilities, fail, fail_unless_gradient_reaches,
                            fail_unless_one_number, is_close, passed)


def check_image_discriminator(make_discriminator: Callable[..., nn.Module]) -> None:
    """Lesson 02: make_discriminator(dropout, sigmoid) maps (N, 1, 28, 28) images to (N, 1)."""
    torch.manual_seed(0)
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    discriminator = call_exercise(make_discriminator, 0.0, True, name="make_discriminator")
    if not isinstance(discriminator, nn.Module):
        fail(f"make_discriminator() should return an nn.Module, got {type(discriminator).__name__}.")
    try:
        out = discriminator(images)
    except RuntimeError as error:
        if "shapes cannot be multiplied" in str(error) or "mat1" in str(error):
            fail(f"D failed on images of shape (16, 1, 28, 28): {str(error).splitlines()[0]}",
                 "a Linear layer wants (N, 784) rows: start with nn.Flatten() to turn each "
                 "28×28 image into 784 numbers.")
        raise
    if tuple(out.shape) != (16, 1):
        fail(f"D(images) for images (16, 1, 28, 28) should have shape (16, 1), got {tuple(out.shape)}.",
             "the last Linear layer has out_features=1, and nn.Flatten() comes first.")
    check_probabilities(out.detach(), "D with sigmoid=True")
    linears = [m for m in discriminator.modules() if isinstance(m, nn.Linear)]
    sizes = [(m.in_features, m.out_features) for m in linears]
    if sizes != [(784, 256), (256, 256), (256, 1)]:
        fail(f"expected Linear layers 784→256, 256→256, 256→1, got {sizes}.",
             "the course discriminator is 784 → 256 → 256 → 1 with LeakyReLU(0.2) between.")
    slopes = [m.negative_slope for m in discriminator.modules() if isinstance(m, nn.LeakyReLU)]
    if not slopes:
        fail("no LeakyReLU found between the Linear layers.",
             "use nn.LeakyReLU(0.2): it keeps a small gradient for negative inputs, which G needs.")
    if any(abs(slope - 0.2) > 1e-9 for slope in slopes):
        fail(f"the LeakyReLU slopes are {slopes}; the course discriminator uses 0.2.",
             "nn.LeakyReLU(0.2): PyTorch's default slope 0.01 leaves G almost no gradient through D's "
             "negative side.")
    logits = call_exercise(make_discriminator, 0.0, False, name="make_discriminator")(images)
    if logits.min() >= 0 and logits.max() <= 1:
        fail("with sigmoid=False, D should return raw logits (any real number), but all outputs "
             "lie in [0, 1].", "add nn.Sigmoid() only when sigmoid=True.")
    dropped = call_exercise(make_discriminator, 0.3, False, name="make_discriminator")
    drops = [m.p for m in dropped.modules() if isinstance(m, nn.Dropout)]
    if not drops or any(abs(p - 0.3) > 1e-9 for p in drops):
        fail(f"make_discriminator(dropout=0.3) should put nn.Dropout(0.3) after the hidden layers; "
             f"found dropout probabilities {drops}.", "add nn.Dropout(dropout) when dropout > 0.")
    none = [m for m in discriminator.modules() if isinstance(m, nn.Dropout)]
    if none:
        fail("make_discriminator(dropout=0.0) should have no Dropout layers.")
    n_params = sum(p.numel() for p in discriminator.parameters())
    passed(f"Discriminator: (16, 1, 28, 28) -> (16, 1), layers 784→256→256→1, {n_params:,} parameters; "
           "sigmoid and dropout options work.")


def _tiny_gan(sigmoid: bool):
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 12), nn.Tanh(), nn.Unflatten(1, (1, 3, 4)))
    generator.latent_dim = 4
    layers = [nn.Flatten(), nn.Linear(12, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1)]
    discriminator = nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))
    return generator, discriminator


def check_discriminator_loss(discriminator_loss: Callable) -> None:
    """Lesson 02: (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, returning (d_loss, D(x), D(G(z)))."""
    generator, discriminator = _tiny_gan(sigmoid=False)
    real = torch.rand(6, 1, 3, 4) * 2 - 1
    fake = generator(torch.randn(6, 4)).detach()
    criterion = nn.BCEWithLogitsLoss()
    for real_label in (1.0, 0.9):
        got = call_exercise(discriminator_loss, discriminator, real, fake, criterion, real_label,
                    name="discriminator_loss")
        if not isinstance(got, tuple) or len(got) != 3:
            fail(f"discriminator_loss should return (d_loss, d_real, d_fake), got {type(got).__name__}.")
        d_loss, d_real, d_fake = got
        real_out, fake_out = discriminator(real), discriminator(fake)
        ones, zeros = torch.ones_like(real_out), torch.zeros_like(fake_out)
        expected = (criterion(real_out, real_label * ones) + criterion(fake_out, zeros)) / 2
        fail_unless_one_number(d_loss, f"d_loss should be a one-number tensor, got {d_loss!r}.")
        if not d_loss.requires_grad:
            fail("d_loss carries no gradient, so D cannot learn from it.",
                 "do not compute it under torch.no_grad(), and do not call .item() on it.")
        d_loss, expected = d_loss.detach(), expected.detach()
        if is_close(d_loss, expected):
            continue
        if is_close(d_loss, 2 * expected):
            fail(f"d_loss = {d_loss.item():.4f} is twice the expected {expected.item():.4f}.",
                 "average the two terms: (loss_real + loss_fake) / 2.")
        plain = ((criterion(real_out, ones) + criterion(fake_out, zeros)) / 2).detach()
        if real_label != 1.0 and is_close(d_loss, plain):
            fail(f"with real_label={real_label} the loss ignored label smoothing.",
                 "label the real images real_label (e.g. 0.9), not 1: torch.full_like(out, real_label).")
        swapped = ((criterion(real_out, zeros) + criterion(fake_out, real_label * ones)) / 2).detach()
        if is_close(d_loss, swapped):
            fail("the labels are swapped: reals must be labelled real_label (≈1) and fakes 0.")
        both = ((criterion(real_out, real_label * ones)
                 + criterion(fake_out, (1 - real_label) + zeros)) / 2).detach()
        if is_close(d_loss, both) and real_label != 1.0:
            fail("smoothing was applied to the fakes too (labelled 0.1).",
                 "one-sided: only the real labels become 0.9; fakes stay 0.")
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} (real_label={real_label}).",
             "the mean of two BCE terms: D's outputs on reals against real_label, on fakes against 0.")
    if not (torch.allclose(d_real, real_out) and torch.allclose(d_fake, fake_out)):
        fail("d_real and d_fake should be D's outputs on the real and the fake batch, shape (N, 1).")
    passed(f"D loss: {d_loss.item():.4f} = (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, "
           "label smoothing one-sided.")


def check_generator_loss(generator_loss: Callable) -> None:
    """Lesson 02's given generator_loss: BCE(D(G(z)), 1) = mean -log D(G(z)), gradient into G."""
    generator, discriminator = _tiny_gan(sigmoid=False)
    criterion = nn.BCEWithLogitsLoss()
    fake = generator(torch.randn(6, 4))
    g_loss = call_exercise(generator_loss, discriminator, fake, criterion, name="generator_loss")
    out = discriminator(fake).detach()
    expected = criterion(out, torch.ones_like(out))
    fail_unless_one_number(g_loss, f"generator_loss should return a one-number tensor, got {g_loss!r}.")
    if is_close(g_loss.detach(), expected):
        fail_unless_gradient_reaches(g_loss, generator,
                                      "the loss value is right but no gradient reached the generator.",
                                      "do not detach the fake images in the G step: G learns through D.")
        passed(f"G loss: {g_loss.item():.4f} = BCE(D(G(z)), 1) = mean -log D(G(z)), and it reaches G.")
        return
    g_value = g_loss.detach()
    if is_close(g_value, criterion(out, torch.zeros_like(out))):
        fail("the fakes were labelled 0 in the G step.", "G wants D to say 'real': label them 1.")
    if is_close(g_value, -criterion(out, torch.zeros_like(out))):
        fail("that is the saturating loss log(1 - D(G(z))).",
             "it has almost no gradient early on; ask the criterion to call the fakes real (target 1).")
    fail(f"g_loss = {g_loss.item():.4f}, expected {expected.item():.4f}.",
         "score the fakes with D and ask the criterion to call them real: a target of ones.")


def check_least_squares(least_squares: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Lesson 02: the least-squares criterion: mean over the batch of (score - target)², on D's raw scores.

    With it, the averaged D loss is Mao et al.'s L_D = 1/2 E[(D(x) - 1)²] + 1/2 E[D(G(z))²], and
    generator_loss gives E[(D(G(z)) - 1)²], twice their L_G. The gradient must reach the scores.
    """
    torch.manual_seed(0)
    scores = (torch.randn(6, 1) * 3).requires_grad_(True)
    targets = torch.tensor([[1.0], [0.9], [0.0], [1.0], [0.0], [0.0]])
    got = call_exercise(least_squares, scores, targets, name="least_squares")
    fail_unless_one_number(got, f"least_squares should return a one-number tensor (a mean over the batch), "
                                f"got {getattr(got, 'shape', got)!r}.")
    if not got.requires_grad:
        fail("the loss carries no gradient back to D's scores, so neither D nor G could learn from it.",
             "do not compute it under torch.no_grad(), detach the scores or call .item().")
    s, t, value = scores.detach(), targets, got.detach()
    diff = s - t
    known = [
        ((diff ** 2).sum(), "that is the sum over the batch: the loss, and its gradients, would grow with the "
                            "batch size.", "average over the batch instead."),
        (0.5 * (diff ** 2).mean(), "that is half the mean squared error. The ½ of Mao et al.'s L_D is already "
                                   "in your discriminator_loss, which averages its two terms.",
         "return the plain mean squared error."),
        (((torch.sigmoid(s) - t) ** 2).mean(), "that compares σ(score), a probability, with the labels: the "
                                               "sigmoid goes flat again for large scores, the very thing least "
                                               "squares avoids.", "LSGAN's D ends in a linear layer: use the raw "
                                                                  "scores as they come."),
        (diff.abs().mean(), "that is the mean absolute error (L1), whose slope stays the same size however "
                            "close the score is to its target.", "square the differences."),
        ((s ** 2).mean(), "that ignores the targets: every score is pulled towards 0, reals included.",
         "measure each score against its own target."),
        (diff.mean() ** 2, "that squares the mean difference: errors of opposite signs cancel before squaring.",
         "square each difference first, then average."),
    ]
    expected = (diff ** 2).mean()
    if not is_close(value, expected):
        for wrong, what, hint in known:
            if is_close(value, wrong):
                fail(f"least_squares = {value.item():.4f}, expected {expected.item():.4f}: {what}", hint)
        fail(f"least_squares = {value.item():.4f} for these scores and targets, expected {expected.item():.4f}.",
             "one number: the squared error of each score against its target, averaged over the batch.")
    grad, = torch.autograd.grad(got, scores)
    if not torch.allclose(grad, 2 * diff / len(s), atol=1e-5):
        fail("the value is right but its gradient with respect to the scores is not.",
             "compute it from the scores with tensor operations, without detaching any part.")
    passed(f"Least squares: {value.item():.4f} = mean squared error of the raw scores against their labels, "
           "gradient into the scores.")


def _ema_models(requires_grad: bool) -> tuple[nn.Module, nn.Module]:
    """A small model with a BatchNorm (weights and buffers) and its average, both moved apart."""
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


def _flat_state(tensors) -> Tensor:
    return torch.cat([t.detach().double().flatten() for t in tensors])


def check_ema_update(ema_update: Callable[[nn.Module, nn.Module, float], None]) -> None:
    """Lesson 02: theta_ema <- decay * theta_ema + (1 - decay) * theta in place, buffers copied."""
    decay = 0.9
    ema_model, model = _ema_models(requires_grad=False)  # as train_gan makes it
    ema_before, model_before = _flat_state(ema_model.parameters()), _flat_state(model.parameters())
    model_buffers = _flat_state(model.buffers())
    ema_buffers_before = _flat_state(ema_model.buffers())
    try:
        call_exercise(ema_update, ema_model, model, decay, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail("ema_update changed G's weights in place while autograd was recording.",
             "do the update under torch.no_grad(), and change ema_model, not model.")
    if not torch.allclose(_flat_state(model.parameters()), model_before):
        fail("ema_update changed the model's weights; only the average should move.",
             "the first argument is the average: update ema_model's parameters towards model's.")
    if any(p.requires_grad or p.grad_fn is not None for p in ema_model.parameters()):
        fail("the averaged weights now carry an autograd graph back into G's weights (it grows every step).",
             "do the update under torch.no_grad().")
    got = _flat_state(ema_model.parameters())
    expected = decay * ema_before + (1 - decay) * model_before
    if not torch.allclose(got, expected, atol=1e-6):
        if torch.allclose(got, ema_before):
            fail("the averaged weights did not change.",
                 "`ema_param = ...` only rebinds a name; update the tensor in place (mul_, add_, lerp_ or copy_).")
        if torch.allclose(got, (1 - decay) * ema_before + decay * model_before, atol=1e-6):
            fail("the decay is applied the wrong way round: the average kept 10% of itself for decay = 0.9.",
                 "decay is the share the average keeps: decay * ema + (1 - decay) * model.")
        if torch.allclose(got, model_before):
            fail("the averaged weights were replaced by the model's, not averaged.",
                 "keep `decay` of the old average: decay * ema + (1 - decay) * model.")
        fail("the averaged weights are not decay * ema + (1 - decay) * model for every parameter.",
             "pair each averaged parameter with the model's one and move it in place.")
    buffers = _flat_state(ema_model.buffers())
    if not torch.equal(buffers, model_buffers):
        hint = "copy each of the model's buffers into the average's, in place."
        if torch.equal(buffers, ema_buffers_before):
            fail("the buffers (BatchNorm's running mean and variance) were not copied.", hint)
        fail("the buffers were averaged; they are statistics of the current G, not weights.", hint)
    ema_model, model = _ema_models(requires_grad=True)  # a plain copy.deepcopy(model)
    try:
        call_exercise(ema_update, ema_model, model, decay, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail("on a plain copy.deepcopy(model), ema_update fails: an in-place change of a weight that "
             "requires grad, while autograd records.", "do the update under torch.no_grad().")
    passed(f"EMA update: decay {decay} keeps {decay:.0%} of the average, buffers copied, model untouched, "
           "no graph recorded.")


def check_mnist_gan(fd: float, real_vs_real: float, coverage: int, max_fd: float,
                    min_coverage: int = 10, smoke: bool = False) -> None:
    """Lesson 02: the trained GAN's Fréchet distance and class coverage reach the targets.

    smoke: a run shrunk to seconds (GAN_COURSE_SMOKE=1), which cannot reach them: say so, check nothing.
    """
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
