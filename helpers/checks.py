"""Check cells: run after each exercise, they print a pass line or explain what is wrong.

Every check raises AssertionError on a wrong answer (so a broken solution fails CI) with a
message that says what was expected, what came, and a hint.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn


class CheckFailed(AssertionError):
    """A check cell found a problem; the message says what and how to fix it."""


def fail(what: str, hint: str = "") -> None:
    message = f"❌ {what}"
    if hint:
        message += f"\n   Hint: {hint}"
    raise CheckFailed(message)


def passed(what: str) -> None:
    print(f"✅ {what}")


def _call(fn: Callable, *args, name: str):
    try:
        return fn(*args)
    except NotImplementedError:
        fail(f"{name} is not written yet (it still raises NotImplementedError).",
             "replace the `raise NotImplementedError` line under '# YOUR CODE HERE' with your code.")


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


# --- Lesson 01: the harmonic-curve GAN -------------------------------------------------------

def check_discriminator(make_discriminator: Callable[[], nn.Module]) -> None:
    """Lesson 01: D maps (N, 2) points to (N, 1) probabilities and has something to learn."""
    torch.manual_seed(0)
    discriminator = _call(make_discriminator, name="make_discriminator")
    if not isinstance(discriminator, nn.Module):
        fail(f"make_discriminator() should return an nn.Module, got {type(discriminator).__name__}.")
    points = torch.randn(16, 2)
    out = discriminator(points)
    if tuple(out.shape) != (16, 1):
        fail(f"D(points) for points of shape (16, 2) should have shape (16, 1), got {tuple(out.shape)}.",
             "the last Linear layer needs out_features=1.")
    if out.min() < 0 or out.max() > 1:
        fail(f"D should output probabilities in [0, 1], got values from {out.min():.3f} to {out.max():.3f}.",
             "end the network with nn.Sigmoid().")
    hidden = [m for m in discriminator.modules() if isinstance(m, nn.Linear)]
    if len(hidden) < 2:
        fail(f"D has {len(hidden)} Linear layer(s); a single layer can only draw a straight "
             "boundary, but real points lie on a curve.", "use at least one hidden layer.")
    passed(f"Discriminator: (16, 2) -> (16, 1) probabilities, {len(hidden)} linear layers.")


def check_d_loss(d_loss_fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Lesson 01: d_loss(d_real, d_fake) = mean(-log D(x)) + mean(-log(1 - D(G(z))))."""
    d_real = torch.tensor([[0.9], [0.6], [0.8]])
    d_fake = torch.tensor([[0.2], [0.3], [0.1]])
    expected = (-torch.log(d_real)).mean() + (-torch.log(1 - d_fake)).mean()
    got = _call(d_loss_fn, d_real, d_fake, name="d_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"d_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"D loss: {got.item():.4f} matches -log D(x) - log(1 - D(G(z))).")
        return
    swapped = (-torch.log(1 - d_real)).mean() + (-torch.log(d_fake)).mean()
    if _close(got, swapped):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: the labels are swapped.",
             "reals get label 1 and fakes label 0: BCE(D(x), 1) + BCE(D(G(z)), 0).")
    if _close(got, expected / 2):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: that is half of it.",
             "this lesson adds the two BCE terms; it does not average them.")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f} for D(x) = {d_real.flatten().tolist()}, "
         f"D(G(z)) = {d_fake.flatten().tolist()}.",
         "use nn.BCELoss: criterion(d_real, ones) + criterion(d_fake, zeros).")


def check_g_loss(g_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """Lesson 01: the non-saturating G loss, mean(-log D(G(z)))."""
    d_fake = torch.tensor([[0.2], [0.3], [0.1]])
    expected = (-torch.log(d_fake)).mean()
    got = _call(g_loss_fn, d_fake, name="g_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"g_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"G loss: {got.item():.4f} matches the non-saturating -log D(G(z)).")
        return
    saturating = torch.log(1 - d_fake).mean()
    if _close(got, saturating):
        fail(f"got {got.item():.4f}: that is the saturating loss log(1 - D(G(z))).",
             "it has almost no gradient when D rejects the fakes; use BCE(D(G(z)), 1) = -log D(G(z)).")
    if _close(got, (-torch.log(1 - d_fake)).mean()):
        fail(f"got {got.item():.4f}: fakes were labelled 0 in the G step.",
             "the generator wants D to call its fakes real: label them 1.")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f}.", "criterion(d_fake, ones).")


def check_harmonic_gan(curve_error: float, coverage: float,
                       max_error: float = 0.1, max_coverage: float = 0.3) -> None:
    """Lesson 01: after training, points near the curve and spread along all of it."""
    if not (math.isfinite(curve_error) and math.isfinite(coverage)):
        fail(f"the metrics are not finite (curve error {curve_error}, coverage {coverage}).")
    if curve_error > max_error:
        fail(f"curve error {curve_error:.3f} is above {max_error}: generated points are off the curve.",
             "check the G step (fakes labelled 1) and that D sees detached fakes in the D step.")
    if coverage > max_coverage:
        fail(f"coverage distance {coverage:.3f} is above {max_coverage}: points bunch on part of the curve.",
             "this is mode collapse; see the 'break it' section.")
    passed(f"Trained GAN: curve error {curve_error:.3f} ≤ {max_error}, coverage {coverage:.3f} ≤ {max_coverage}.")
# --- Lesson 02: fully connected GAN on MNIST ---

def check_image_discriminator(make_discriminator: Callable[..., nn.Module]) -> None:
    """Lesson 02: make_discriminator(dropout, sigmoid) maps (N, 1, 28, 28) images to (N, 1)."""
    torch.manual_seed(0)
    images = torch.rand(16, 1, 28, 28) * 2 - 1
    discriminator = _call(make_discriminator, 0.0, True, name="make_discriminator")
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
    if out.min() < 0 or out.max() > 1:
        fail("with sigmoid=True, D should output probabilities in [0, 1].", "end with nn.Sigmoid().")
    linears = [m for m in discriminator.modules() if isinstance(m, nn.Linear)]
    sizes = [(m.in_features, m.out_features) for m in linears]
    if sizes != [(784, 256), (256, 256), (256, 1)]:
        fail(f"expected Linear layers 784→256, 256→256, 256→1, got {sizes}.",
             "the course discriminator is 784 → 256 → 256 → 1 with LeakyReLU(0.2) between.")
    if not any(isinstance(m, nn.LeakyReLU) for m in discriminator.modules()):
        fail("no LeakyReLU found between the Linear layers.",
             "use nn.LeakyReLU(0.2): it keeps a small gradient for negative inputs, which G needs.")
    logits = _call(make_discriminator, 0.0, False, name="make_discriminator")(images)
    if logits.min() >= 0 and logits.max() <= 1:
        fail("with sigmoid=False, D should return raw logits (any real number), but all outputs "
             "lie in [0, 1].", "add nn.Sigmoid() only when sigmoid=True.")
    dropped = _call(make_discriminator, 0.3, False, name="make_discriminator")
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
        got = _call(discriminator_loss, discriminator, real, fake, criterion, real_label,
                    name="discriminator_loss")
        if not isinstance(got, tuple) or len(got) != 3:
            fail(f"discriminator_loss should return (d_loss, d_real, d_fake), got {type(got).__name__}.")
        d_loss, d_real, d_fake = got
        real_out, fake_out = discriminator(real), discriminator(fake)
        ones, zeros = torch.ones_like(real_out), torch.zeros_like(fake_out)
        expected = (criterion(real_out, real_label * ones) + criterion(fake_out, zeros)) / 2
        if not isinstance(d_loss, Tensor) or d_loss.numel() != 1:
            fail(f"d_loss should be a one-number tensor, got {d_loss!r}.")
        if not d_loss.requires_grad:
            fail("d_loss carries no gradient, so D cannot learn from it.",
                 "do not compute it under torch.no_grad(), and do not call .item() on it.")
        d_loss, expected = d_loss.detach(), expected.detach()
        if _close(d_loss, expected):
            continue
        if _close(d_loss, 2 * expected):
            fail(f"d_loss = {d_loss.item():.4f} is twice the expected {expected.item():.4f}.",
                 "average the two terms: (loss_real + loss_fake) / 2.")
        plain = ((criterion(real_out, ones) + criterion(fake_out, zeros)) / 2).detach()
        if real_label != 1.0 and _close(d_loss, plain):
            fail(f"with real_label={real_label} the loss ignored label smoothing.",
                 "label the real images real_label (e.g. 0.9), not 1: torch.full_like(out, real_label).")
        swapped = ((criterion(real_out, zeros) + criterion(fake_out, real_label * ones)) / 2).detach()
        if _close(d_loss, swapped):
            fail("the labels are swapped: reals must be labelled real_label (≈1) and fakes 0.")
        both = ((criterion(real_out, real_label * ones)
                 + criterion(fake_out, (1 - real_label) + zeros)) / 2).detach()
        if _close(d_loss, both) and real_label != 1.0:
            fail("smoothing was applied to the fakes too (labelled 0.1).",
                 "one-sided: only the real labels become 0.9; fakes stay 0.")
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} (real_label={real_label}).",
             "d_loss = (criterion(D(real), real_label) + criterion(D(fake), 0)) / 2.")
    if not (torch.allclose(d_real, real_out) and torch.allclose(d_fake, fake_out)):
        fail("d_real and d_fake should be D's outputs on the real and the fake batch, shape (N, 1).")
    passed(f"D loss: {d_loss.item():.4f} = (BCE(D(x), real_label) + BCE(D(G(z)), 0)) / 2, "
           "label smoothing one-sided.")


def check_generator_loss(generator_loss: Callable) -> None:
    """Lesson 02: the non-saturating G loss BCE(D(G(z)), 1) = mean -log D(G(z)), gradient into G."""
    generator, discriminator = _tiny_gan(sigmoid=False)
    criterion = nn.BCEWithLogitsLoss()
    fake = generator(torch.randn(6, 4))
    g_loss = _call(generator_loss, discriminator, fake, criterion, name="generator_loss")
    out = discriminator(fake).detach()
    expected = criterion(out, torch.ones_like(out))
    if not isinstance(g_loss, Tensor) or g_loss.numel() != 1:
        fail(f"generator_loss should return a one-number tensor, got {g_loss!r}.")
    if _close(g_loss.detach(), expected):
        g_loss.backward()
        if all(p.grad is None or p.grad.abs().sum() == 0 for p in generator.parameters()):
            fail("the loss value is right but no gradient reached the generator.",
                 "do not detach the fake images in the G step: G learns through D.")
        passed(f"G loss: {g_loss.item():.4f} = BCE(D(G(z)), 1) = mean -log D(G(z)), and it reaches G.")
        return
    g_value = g_loss.detach()
    if _close(g_value, criterion(out, torch.zeros_like(out))):
        fail("the fakes were labelled 0 in the G step.", "G wants D to say 'real': label them 1.")
    if _close(g_value, -criterion(out, torch.zeros_like(out))):
        fail("that is the saturating loss log(1 - D(G(z))).",
             "it has almost no gradient early on; use criterion(D(fake), ones).")
    fail(f"g_loss = {g_loss.item():.4f}, expected {expected.item():.4f}.",
         "criterion(discriminator(fake_images), torch.ones_like(...)).")


def check_sample_grid(to_grid: Callable[[Tensor, int], Tensor]) -> None:
    """Lesson 02: (N, 1, H, W) in [-1, 1] -> (rows*H, nrow*W) in [0, 1], filled row by row."""
    n, h, w, nrow = 6, 2, 3, 3
    images = torch.linspace(-1, 1, n * h * w).reshape(n, 1, h, w)
    got = _call(to_grid, images, nrow, name="to_grid")
    rows = math.ceil(n / nrow)
    expected = ((images + 1) / 2).reshape(rows, nrow, h, w).permute(0, 2, 1, 3).reshape(rows * h, nrow * w)
    if not isinstance(got, Tensor):
        fail(f"to_grid should return a tensor, got {type(got).__name__}.")
    if tuple(got.shape) != tuple(expected.shape):
        fail(f"6 images of 2×3 with nrow=3 should give a (4, 9) grid, got {tuple(got.shape)}.",
             "(N, 1, H, W) -> (rows, nrow, H, W) -> permute to (rows, H, nrow, W) -> reshape.")
    if torch.allclose(got, expected, atol=1e-5):
        passed("Sample grid: images placed row by row, pixels mapped from [-1, 1] to [0, 1].")
        return
    if torch.allclose(got, expected * 2 - 1, atol=1e-5):
        fail("the grid is still in [-1, 1].", "imshow wants [0, 1]: map x to (x + 1) / 2.")
    if got.min() < -1e-6 or got.max() > 1 + 1e-6:
        fail(f"grid values run from {got.min():.2f} to {got.max():.2f}; they should lie in [0, 1].",
             "map x to (x + 1) / 2 (not x / 2, not x * 0.5 + 1).")
    wrong = ((images + 1) / 2).reshape(rows, nrow, h, w).reshape(rows * h, nrow * w)
    if torch.allclose(got, wrong, atol=1e-5):
        fail("the images are sliced into strips: the reshape skipped a permute.",
             "after reshaping to (rows, nrow, H, W), permute(0, 2, 1, 3) before the last reshape.")
    fail("the grid's pixels are not where expected: image i belongs at row i // nrow, column i % nrow.")


def check_mnist_gan(fd: float, real_vs_real: float, coverage: int, max_fd: float,
                    min_coverage: int = 10) -> None:
    """Lesson 02: the trained GAN's Fréchet distance and class coverage reach the targets."""
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
