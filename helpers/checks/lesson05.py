"""Checks for lesson 05, why GANs fail, and how to fix them."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from helpers.checks import (call_exercise, fail, fail_unless_gradient_reaches, fail_unless_one_number,
                            is_close, passed)


def _toy_critic() -> nn.Module:
    with torch.random.fork_rng(devices=[]):  # the same critic every time, and the lesson's random stream untouched
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))


def check_gradient_penalty(penalty_fn: Callable) -> None:
    """penalty_fn(critic, real, fake, epsilon) = mean (‖∇C(x̂)‖₂ - 1)², x̂ = ε·x + (1-ε)·G(z)."""
    critic = _toy_critic()
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen) + 1
    epsilon = torch.rand(8, 1, generator=gen)
    mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed)
    norms = grad.norm(2, dim=1)
    expected = ((norms - 1) ** 2).mean()  # mean (‖∇C(x̂)‖₂ - 1)², worked out here
    got = call_exercise(penalty_fn, critic, real, fake, epsilon, name="gradient_penalty")
    fail_unless_one_number(got, f"gradient_penalty should return a single-number tensor, got {got!r}.")
    if not got.requires_grad:
        fail("the penalty carries no gradient back to the critic's weights, so it cannot train the critic.",
             "pass create_graph=True to torch.autograd.grad.")
    value = got.detach()
    if is_close(value, expected):
        fail_unless_gradient_reaches(got, critic,
                                      "backward() through the penalty leaves the critic's gradients at zero.",
                                      "take the gradient with create_graph=True and do not detach it.")
        passed(f"Gradient penalty: {value.item():.4f} matches mean (‖∇C(x̂)‖₂ - 1)².")
        return
    flipped = ((1 - epsilon) * real + epsilon * fake).requires_grad_(True)
    grad_flipped, = torch.autograd.grad(critic(flipped).sum(), flipped)
    if is_close(value, ((grad_flipped.norm(2, dim=1) - 1) ** 2).mean()):
        passed(f"Gradient penalty: {value.item():.4f} (you used (1-ε)·x + ε·G(z); "
               "as ε is uniform, that is the same penalty).")
        return
    if is_close(value, ((grad.pow(2).sum(1) - 1) ** 2).mean()):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: you used the squared norm ‖∇C‖².",
             "the penalty compares each point's gradient norm, not its square, with 1.")
    if is_close(value, (norms.mean() - 1) ** 2):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: the mean is taken before squaring.",
             "square (‖∇C(x̂)‖ - 1) for each point first, then average over the batch.")
    if is_close(value, ((grad.norm(2, dim=0) - 1) ** 2).mean()):
        fail(f"got {value.item():.4f}, expected {expected.item():.4f}: the norm runs over the batch.",
             "each point has its own gradient: take the norm over dim=1 (the coordinates).")
    for name, pts in (("real points", real), ("fake points", fake)):
        at = pts.clone().requires_grad_(True)
        g, = torch.autograd.grad(critic(at).sum(), at)
        if is_close(value, ((g.norm(2, dim=1) - 1) ** 2).mean()):
            fail(f"got {value.item():.4f}: the gradient was taken at the {name}, not between them.",
                 "interpolate: x̂ = ε·real + (1 - ε)·fake, with the given ε.")
    fail(f"got {value.item():.4f}, expected {expected.item():.4f}.",
         "the gradient is taken at points mixed from the reals and the fakes with the given ε; each point's "
         "gradient norm should be 1, and the penalty averages the squared gap.")


def check_wgan_losses(critic_loss_fn: Callable[[Tensor, Tensor], Tensor],
                      generator_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """Lesson 05: each loss is the Wasserstein estimate E[C(x)] - E[C(G(z))] turned into something its player
    minimises: the critic wants the estimate large, the generator wants it small, and only the generator's fakes
    depend on the generator. Batch means of the raw scores: no sigmoid, no log, no labels."""
    critic_real = torch.tensor([[2.0], [0.5], [1.5]])
    critic_fake = torch.tensor([[-1.0], [0.75], [-0.5]])  # one fake scored above its real partner
    expected_c = critic_fake.mean() - critic_real.mean()
    expected_g = -critic_fake.mean()
    got_c = call_exercise(critic_loss_fn, critic_real, critic_fake, name="critic_loss")
    fail_unless_one_number(got_c, f"critic_loss should return a single-number tensor, got {got_c!r}.")
    if is_close(got_c, -expected_c):
        fail(f"critic loss {got_c.item():.4f} has the wrong sign (expected {expected_c.item():.4f}).",
             "the critic maximises the estimate, and an optimiser minimises: what must the loss be?")
    bce = nn.functional.binary_cross_entropy_with_logits(critic_real, torch.ones_like(critic_real)) \
        + nn.functional.binary_cross_entropy_with_logits(critic_fake, torch.zeros_like(critic_fake))
    if is_close(got_c, bce):
        fail("the critic loss is a BCE: a WGAN critic gives scores, not probabilities.",
             "no sigmoid and no log: the critic's loss is a plain difference of mean scores.")
    if is_close(got_c, (critic_fake - critic_real).abs().mean()):
        fail(f"critic loss {got_c.item():.4f}, expected {expected_c.item():.4f}: an absolute value hides which "
             "side is which.", "the critic must score reals higher than fakes, not just apart from them.")
    if not is_close(got_c, expected_c):
        fail(f"critic loss {got_c.item():.4f}, expected {expected_c.item():.4f} for C(x) = "
             f"{critic_real.flatten().tolist()}, C(G(z)) = {critic_fake.flatten().tolist()}.",
             "start from the estimate E[C(x)] - E[C(G(z))], computed with batch means of the scores.")
    got_g = call_exercise(generator_loss_fn, critic_fake, name="generator_loss")
    fail_unless_one_number(got_g, f"generator_loss should return a single-number tensor, "
                            f"got {got_g!r}.")
    if is_close(got_g, -expected_g):
        fail(f"generator loss {got_g.item():.4f} has the wrong sign (expected {expected_g.item():.4f}).",
             "the generator wants the estimate small, that is, its fakes scored high.")
    if not is_close(got_g, expected_g):
        fail(f"generator loss {got_g.item():.4f}, expected {expected_g.item():.4f}.",
             "of the estimate, only the term with the fakes depends on the generator.")
    passed(f"WGAN losses: critic {got_c.item():.4f}, generator {got_g.item():.4f}, as expected.")


def check_mode_coverage(coverage_fn: Callable) -> None:
    """Lesson 05: coverage_fn(points, centres, std) -> (modes covered, high-quality share)."""
    gen = torch.Generator().manual_seed(0)
    angles = torch.arange(8) * 2 * math.pi / 8
    centres = 2 * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)
    std = 0.02

    def around(centre: Tensor, n: int, radius: float) -> Tensor:  # n points within `radius` of centre
        angle = torch.rand(n, generator=gen) * 2 * math.pi
        r = radius * torch.rand(n, 1, generator=gen)
        return centre + r * torch.stack([angle.cos(), angle.sin()], dim=1)

    # By construction: 3 modes well covered (300 points each within 2σ), 1 mode with 5 stragglers within
    # 1σ (0.5%: not enough to cover it), 45 points 4σ away from a mode, 50 points near the ring's middle.
    parts = [around(centres[i], 300, 2 * std) for i in (0, 2, 5)] + [around(centres[6], 5, std)]
    parts.append(centres[1] + torch.tensor([4 * std, 0.0]) + around(torch.zeros(2), 45, 0.1 * std))
    parts.append(torch.rand(50, 2, generator=gen) * 0.4 - 0.2)
    points = torch.cat(parts)  # (1000, 2)
    expected_modes, expected_hq = 3, (900 + 5) / 1000
    got = call_exercise(coverage_fn, points, centres, std, name="mode_coverage")
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
    if is_close(hq, expected_hq, tol=1e-3):
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
