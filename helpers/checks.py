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


# --- Lesson 05: why GANs fail, and how to fix them ---

def _toy_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))


def check_gradient_penalty(penalty_fn: Callable) -> None:
    """Lesson 05: penalty_fn(critic, real, fake, epsilon) = mean (‖∇C(x̂)‖₂ - 1)², x̂ = ε·x + (1-ε)·G(z)."""
    from helpers.losses import gradient_penalty
    critic = _toy_critic()
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen) + 1
    epsilon = torch.rand(8, 1, generator=gen)
    expected = gradient_penalty(critic, real, fake, epsilon).detach()
    got = _call(penalty_fn, critic, real, fake, epsilon, name="gradient_penalty")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"gradient_penalty should return a single-number tensor, got {got!r}.")
    if not got.requires_grad:
        fail("the penalty carries no gradient back to the critic's weights, so it cannot train the critic.",
             "pass create_graph=True to torch.autograd.grad.")
    value = got.detach()
    if _close(value, expected.detach()):
        critic.zero_grad()
        got.backward()
        if all(p.grad is None or p.grad.abs().sum() == 0 for p in critic.parameters()):
            fail("backward() through the penalty leaves the critic's gradients at zero.",
                 "take the gradient with create_graph=True and do not detach it.")
        passed(f"Gradient penalty: {value.item():.4f} matches mean (‖∇C(x̂)‖₂ - 1)².")
        return
    mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed)
    norms = grad.norm(2, dim=1)
    flipped = ((1 - epsilon) * real + epsilon * fake).requires_grad_(True)
    grad_flipped, = torch.autograd.grad(critic(flipped).sum(), flipped)
    if _close(value, ((grad_flipped.norm(2, dim=1) - 1) ** 2).mean()):
        passed(f"Gradient penalty: {value.item():.4f} (you used (1-ε)·x + ε·G(z); as ε is uniform, that is the same penalty).")
        return
    if _close(value, ((grad.pow(2).sum(1) - 1) ** 2).mean()):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: you used the squared norm ‖∇C‖².",
             "take the plain L2 norm, grad.norm(2, dim=1), before subtracting 1.")
    if _close(value, (norms.mean() - 1) ** 2):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: the mean is taken before squaring.",
             "square (‖∇C(x̂)‖ - 1) for each point first, then average over the batch.")
    if _close(value, ((grad.norm(2, dim=0) - 1) ** 2).mean()):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: the norm runs over the batch.",
             "each point has its own gradient: take the norm over dim=1 (the coordinates).")
    for name, pts in (("real points", real), ("fake points", fake)):
        at = pts.clone().requires_grad_(True)
        g, = torch.autograd.grad(critic(at).sum(), at)
        if _close(value, ((g.norm(2, dim=1) - 1) ** 2).mean()):
            fail(f"got {value.item():.4f}: the gradient was taken at the {name}, not between them.",
                 "interpolate: x̂ = ε·real + (1 - ε)·fake, with the given ε.")
    fail(f"got {value.item():.4f}, expected {expected.item():.4f}.",
         "x̂ = ε·real + (1-ε)·fake with requires_grad; torch.autograd.grad(critic(x̂).sum(), x̂, "
         "create_graph=True); then ((grad.norm(2, dim=1) - 1) ** 2).mean().")


def check_wgan_losses(critic_loss_fn: Callable[[Tensor, Tensor], Tensor],
                      generator_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """Lesson 05: critic loss mean C(G(z)) - mean C(x); generator loss -mean C(G(z))."""
    critic_real = torch.tensor([[2.0], [0.5], [1.5]])
    critic_fake = torch.tensor([[-1.0], [0.25], [-0.5]])
    expected_c = critic_fake.mean() - critic_real.mean()
    expected_g = -critic_fake.mean()
    got_c = _call(critic_loss_fn, critic_real, critic_fake, name="critic_loss")
    if not isinstance(got_c, Tensor) or got_c.numel() != 1:
        fail(f"critic_loss should return a single-number tensor, got {got_c!r}.")
    if _close(got_c, -expected_c):
        fail(f"critic loss {got_c.item():.4f} has the wrong sign (expected {expected_c.item():.4f}).",
             "the critic wants high scores on reals: minimise mean C(G(z)) - mean C(x).")
    if any(_close(got_c, v) for v in (nn.functional.binary_cross_entropy_with_logits(critic_real, torch.ones_like(critic_real))
                                      + nn.functional.binary_cross_entropy_with_logits(critic_fake, torch.zeros_like(critic_fake)),)):
        fail("the critic loss is a BCE: a WGAN critic gives scores, not probabilities.",
             "no sigmoid and no log: critic_fake.mean() - critic_real.mean().")
    if not _close(got_c, expected_c):
        fail(f"critic loss {got_c.item():.4f}, expected {expected_c.item():.4f} for C(x) = "
             f"{critic_real.flatten().tolist()}, C(G(z)) = {critic_fake.flatten().tolist()}.",
             "critic_fake.mean() - critic_real.mean().")
    got_g = _call(generator_loss_fn, critic_fake, name="generator_loss")
    if not isinstance(got_g, Tensor) or got_g.numel() != 1:
        fail(f"generator_loss should return a single-number tensor, got {got_g!r}.")
    if _close(got_g, -expected_g):
        fail(f"generator loss {got_g.item():.4f} has the wrong sign (expected {expected_g.item():.4f}).",
             "the generator wants the critic to score its fakes high: minimise -mean C(G(z)).")
    if not _close(got_g, expected_g):
        fail(f"generator loss {got_g.item():.4f}, expected {expected_g.item():.4f}.", "-critic_fake.mean().")
    passed(f"WGAN losses: critic {got_c.item():.4f} = mean C(G(z)) - mean C(x), "
           f"generator {got_g.item():.4f} = -mean C(G(z)).")


def check_mode_coverage(coverage_fn: Callable) -> None:
    """Lesson 05: coverage_fn(points, centres, std) -> (modes covered, high-quality share)."""
    from helpers.metrics import high_quality_share, modes_covered
    gen = torch.Generator().manual_seed(0)
    angles = torch.arange(8) * 2 * math.pi / 8
    centres = 2 * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)
    std = 0.02
    # 3 modes well covered, 1 mode with 5 stragglers (0.5%: not enough), points 4σ away, junk.
    parts = [centres[i] + std * torch.randn(300, 2, generator=gen) for i in (0, 2, 5)]
    parts.append(centres[6] + std * torch.randn(5, 2, generator=gen))
    parts.append(centres[1] + torch.tensor([4 * std, 0.0]) + 0.001 * torch.randn(45, 2, generator=gen))
    parts.append(torch.rand(50, 2, generator=gen) * 0.4 - 0.2)  # near the middle of the ring
    points = torch.cat(parts)  # (1000, 2)
    expected_modes = modes_covered(points, centres, std)
    expected_hq = high_quality_share(points, centres, std)
    got = _call(coverage_fn, points, centres, std, name="mode_coverage")
    if not isinstance(got, tuple) or len(got) != 2:
        fail(f"mode_coverage should return a pair (modes covered, high-quality share), got {got!r}.")
    modes, hq = int(got[0]), float(got[1])
    if modes == 4:
        fail("4 modes counted, expected 3: a mode with 5 of 1000 points (0.5%) is not covered.",
             "count a mode only when at least 1% of all samples lie within 3σ of it.")
    if modes == 8:
        fail("all 8 modes counted: every mode has a nearest point, but most have none close to it.",
             "count only points within 3·std of the centre.")
    if modes != expected_modes:
        fail(f"{modes} modes counted, expected {expected_modes}.",
             "distance to the nearest centre ≤ 3·std, then count per centre, then ≥ 1% of the samples.")
    if _close(hq, expected_hq, tol=1e-3):
        passed(f"Mode coverage: {modes} of 8 modes, {hq:.1%} high-quality samples.")
        return
    if hq > expected_hq + 0.03:
        fail(f"high-quality share {hq:.3f}, expected {expected_hq:.3f}: points 4σ away were counted.",
             "use 3·std, not a wider radius.")
    if hq < expected_hq - 0.1:
        fail(f"high-quality share {hq:.3f}, expected {expected_hq:.3f}: too few points counted.",
             "use 3·std as the radius (not 1·std), and count points near any mode, "
             "also those of modes that are not 'covered'.")
    fail(f"high-quality share {hq:.3f}, expected {expected_hq:.3f}.",
         "the share of all points whose nearest centre is within 3·std.")
