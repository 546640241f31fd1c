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


# --- Lesson 04: neural style transfer ---------------------------------------------------------

def _ratio_hint(got: float, expected: float, known: dict[str, float]) -> str:
    """Name the normalisation mistake whose factor explains got / expected, if one does."""
    for hint, factor in known.items():
        if _close(got, expected * factor, tol=1e-3):
            return hint
    return ""


def check_gram_matrix(gram_fn: Callable) -> None:
    """Lesson 04: (N, C, H, W) -> (N, C, C), F F^T divided by C*H*W."""
    torch.manual_seed(0)
    n, c, h, w = 2, 3, 4, 5
    features = torch.rand(n, c, h, w)
    expected = torch.einsum("nchw,ndhw->ncd", features, features) / (c * h * w)
    got = _call(gram_fn, features, name="gram_matrix")
    if not isinstance(got, Tensor):
        fail(f"gram_matrix should return a tensor, got {type(got).__name__}.")
    if tuple(got.shape) != (n, c, c):
        hint = ("reshape to (N, C, H*W) and multiply by its transpose: (N, C, HW) @ (N, HW, C)."
                if tuple(got.shape) != (n, h * w, h * w) else
                "that is (N, HW, HW): you multiplied F^T F; the Gram matrix is F F^T, channel by channel.")
        fail(f"for features of shape {(n, c, h, w)} the Gram matrices should have shape {(n, c, c)}, "
             f"got {tuple(got.shape)}.", hint)
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-6):
        passed(f"gram_matrix: {(n, c, h, w)} -> {(n, c, c)}, divided by C*H*W = {c * h * w}.")
        return
    ratio_hint = _ratio_hint(got[0, 0, 0].item(), expected[0, 0, 0].item(), {
        f"it is C*H*W = {c * h * w} times too big: divide by C*H*W.": c * h * w,
        f"it is C = {c} times too big: you divided by H*W only; divide by C*H*W.": c,
        f"it is H*W = {h * w} times too big: you divided by C only; divide by C*H*W.": h * w,
        f"it is N = {n} times too small: divide by C*H*W, not N*C*H*W (each image has its own Gram).": 1 / n,
    })
    if torch.allclose(got[0], got[1]) and not torch.allclose(expected[0], expected[1]):
        ratio_hint = "both images got the same Gram matrix: keep the batch dimension (use torch.bmm)."
    fail(f"gram_matrix values are wrong: got {got[0, 0, 0].item():.5f} for entry [0, 0, 0], "
         f"expected {expected[0, 0, 0].item():.5f}.",
         ratio_hint or "G[n] = F[n] @ F[n].T / (C*H*W) with F[n] of shape (C, H*W).")


def check_content_loss(content_loss_fn: Callable) -> None:
    """Lesson 04: content loss = mean squared difference of the feature maps."""
    torch.manual_seed(1)
    features, target = torch.rand(1, 4, 3, 3), torch.rand(1, 4, 3, 3)
    expected = (features - target).pow(2).mean()
    got = _call(content_loss_fn, features, target, name="content_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"content_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"content_loss: {got.item():.5f}, the mean squared difference of the features.")
        return
    numel = features.numel()
    hint = _ratio_hint(got.item(), expected.item(), {
        f"that is a sum, {numel} times the mean: use the mean (F.mse_loss) so the loss does not grow with image size.": numel,
        f"that is Gatys's 1/2 * sum, {numel / 2:g} times the mean: this lesson uses the mean (F.mse_loss).": numel / 2,
    })
    if not hint and _close(got, expected.sqrt()):
        hint = "that is the root of the mean square: leave out the square root."
    if not hint and _close(got, (features - target).abs().mean()):
        hint = "that is the mean absolute difference: square the differences."
    fail(f"content_loss gave {got.item():.5f}, expected {expected.item():.5f}.", hint or "F.mse_loss(features, target).")


def check_style_loss(style_loss_fn: Callable) -> None:
    """Lesson 04: style loss = sum over layers of the mean squared difference of Gram matrices."""
    torch.manual_seed(2)
    grams = [torch.rand(1, c, c) for c in (2, 3, 4)]
    targets = [torch.rand(1, c, c) for c in (2, 3, 4)]
    per_layer = [(g - t).pow(2).mean() for g, t in zip(grams, targets)]
    expected = sum(per_layer)
    got = _call(style_loss_fn, grams, targets, name="style_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"style_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"style_loss: {got.item():.5f}, the sum over 3 layers of the mean squared Gram difference.")
        return
    hint = _ratio_hint(got.item(), expected.item(), {
        "that is the mean over layers: this lesson sums the layers (the style weight absorbs the 1/L).": 1 / 3,
    })
    if not hint and _close(got, sum((g - t).pow(2).sum() for g, t in zip(grams, targets))):
        hint = "that sums the squared differences inside each layer: take their mean (F.mse_loss), as the Gram sizes differ."
    if not hint and _close(got, per_layer[0]):
        hint = "only the first layer counted: add up every layer in the list."
    fail(f"style_loss gave {got.item():.5f}, expected {expected.item():.5f}.",
         hint or "sum(F.mse_loss(g, t) for g, t in zip(grams, target_grams)).")


def check_tv_loss(tv_loss_fn: Callable) -> None:
    """Lesson 04: TV = mean |vertical neighbour difference| + mean |horizontal neighbour difference|."""
    image = torch.tensor([[[[0.0, 0.5, 1.0],
                            [0.0, 0.0, 1.0]]]])  # (1, 1, 2, 3)
    vertical = (image[:, :, 1:, :] - image[:, :, :-1, :]).abs()    # (1, 1, 1, 3): 0, 0.5, 0
    horizontal = (image[:, :, :, 1:] - image[:, :, :, :-1]).abs()  # (1, 1, 2, 2): 0.5, 0.5, 0, 1
    expected = vertical.mean() + horizontal.mean()                  # 1/6 + 1/2
    got = _call(tv_loss_fn, image, name="tv_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"tv_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"tv_loss: {got.item():.4f} = 1/6 (vertical) + 1/2 (horizontal) on the 2x3 test image.")
        return
    hints = {
        vertical.sum() + horizontal.sum(): "that is a sum of |differences|: take the mean of each direction.",
        vertical.pow(2).mean() + horizontal.pow(2).mean(): "those are squared differences: this lesson's TV "
                                                           "uses absolute values (.abs()).",
        vertical.mean(): "only the vertical differences counted: add the horizontal ones.",
        horizontal.mean(): "only the horizontal differences counted: add the vertical ones.",
        (vertical.sum() + horizontal.sum()) / image.numel(): "that divides both sums by the number of pixels: "
                                                             "take each direction's own mean.",
        torch.cat([vertical.flatten(), horizontal.flatten()]).mean(): "that averages all differences together: "
                                                                      "take each direction's mean, then add them.",
    }
    hint = next((text for value, text in hints.items() if _close(got, value)), "")
    fail(f"tv_loss gave {got.item():.4f} on a 2x3 test image, expected {expected.item():.4f} (= 1/6 + 1/2).",
         hint or "(x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean().")
