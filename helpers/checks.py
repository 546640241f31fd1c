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
