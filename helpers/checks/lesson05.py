"""Checks for lesson 05, why GANs fail, and how to fix them."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn.functional import binary_cross_entropy_with_logits as bce

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, passed


def check_gradient_penalty(penalty_fn: Callable) -> None:
    """penalty_fn(critic, real, fake, epsilon) = mean (‖∇C(x̂)‖₂ - 1)², x̂ = ε·x + (1-ε)·G(z)."""
    with torch.random.fork_rng(devices=[]):  # the same critic every time, and the lesson's random stream untouched
        torch.manual_seed(0)
        critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen) + 1
    epsilon = torch.rand(8, 1, generator=gen)

    def grad_at(points: Tensor) -> Tensor:
        points = points.detach().requires_grad_(True)
        return torch.autograd.grad(critic(points).sum(), points)[0]

    def penalty(grad: Tensor) -> Tensor:
        return ((grad.norm(2, dim=1) - 1) ** 2).mean()

    grad = grad_at(epsilon * real + (1 - epsilon) * fake)
    expected = penalty(grad)
    got = call_exercise(penalty_fn, critic, real, fake, epsilon, name="gradient_penalty")
    fail_unless_one_number(got, "gradient_penalty")
    if not got.requires_grad:
        fail("the penalty carries no gradient back to the critic.", "pass create_graph=True to torch.autograd.grad.")
    value, flipped = got.detach(), penalty(grad_at((1 - epsilon) * real + epsilon * fake))  # ε uniform: the same
    expect(value, [expected, flipped], {
        "you used the squared norm ‖∇C‖²: compare each point's gradient norm with 1.":
            ((grad.square().sum(1) - 1) ** 2).mean(),
        "the mean is taken before squaring: square (‖∇C(x̂)‖ - 1) for each point, then average.":
            (grad.norm(2, dim=1).mean() - 1) ** 2,
        "the norm runs over the batch: each point has its own gradient, take the norm over dim=1.":
            ((grad.norm(2, dim=0) - 1) ** 2).mean(),
        "the gradient was taken at the real or the fake points, not at x̂ = ε·real + (1 - ε)·fake.":
            [penalty(grad_at(real)), penalty(grad_at(fake))],
    }, f"got {value.item():.4f}, expected {expected.item():.4f}.", "the gradient is taken at points mixed from the "
        "reals and the fakes with the given ε; each point's gradient norm should be 1, and the penalty averages the "
        "squared gap.")
    critic.zero_grad()
    got.backward()
    if all(p.grad is None or not p.grad.any() for p in critic.parameters()):
        fail("backward() through the penalty leaves the critic's gradients at zero.", "create_graph=True, no detach.")
    passed(f"Gradient penalty: {value.item():.4f} matches mean (‖∇C(x̂)‖₂ - 1)².")


def check_wgan_losses(critic_loss_fn: Callable[[Tensor, Tensor], Tensor],
                      generator_loss_fn: Callable[[Tensor], Tensor]) -> None:
    """Lesson 05: each loss is the Wasserstein estimate E[C(x)] - E[C(G(z))] turned into something its player
    minimises: the critic wants the estimate large, the generator wants it small, and only the generator's fakes
    depend on the generator. Batch means of the raw scores: no sigmoid, no log, no labels."""
    real = torch.tensor([[2.0], [0.5], [1.5]])
    fake = torch.tensor([[-1.0], [0.75], [-0.5]])  # one fake scored above its real partner
    expected, expected_g = fake.mean() - real.mean(), -fake.mean()
    got = call_exercise(critic_loss_fn, real, fake, name="critic_loss")
    fail_unless_one_number(got, "critic_loss")
    expect(got, expected, {
        "the critic loss has the wrong sign: the critic maximises the estimate; an optimiser minimises.": -expected,
        "the critic loss is a BCE: a WGAN critic gives scores, not probabilities; no sigmoid and no log.":
            bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)),
        "the critic loss takes an absolute value, which hides which side is which.": (fake - real).abs().mean(),
    }, f"critic loss {got.item():.4f}, expected {expected.item():.4f} for C(x) = {real.flatten().tolist()}, "
       f"C(G(z)) = {fake.flatten().tolist()}.", "start from the estimate E[C(x)] - E[C(G(z))], with batch means.")
    got_g = call_exercise(generator_loss_fn, fake, name="generator_loss")
    fail_unless_one_number(got_g, "generator_loss")
    expect(got_g, expected_g, {"the generator loss has the wrong sign: G wants its fakes scored high.": -expected_g},
           f"generator loss {got_g.item():.4f}, expected {expected_g.item():.4f}.",
           "of the estimate, only the term with the fakes depends on the generator.")
    passed(f"WGAN losses: critic {got.item():.4f}, generator {got_g.item():.4f}, as expected.")


def check_mode_coverage(coverage_fn: Callable) -> None:
    """Lesson 05: coverage_fn(points, centres, std) -> (modes covered, high-quality share)."""
    gen = torch.Generator().manual_seed(0)
    angles = torch.arange(8) * 2 * math.pi / 8
    centres = 2 * torch.stack([angles.cos(), angles.sin()], dim=1)  # (8, 2)
    std = 0.02

    def around(centre: Tensor, n: int, radius: float) -> Tensor:  # n points within `radius` of centre
        angle, r = torch.rand(n, generator=gen) * 2 * math.pi, radius * torch.rand(n, 1, generator=gen)
        return centre + r * torch.stack([angle.cos(), angle.sin()], dim=1)

    # 3 modes well covered (300 points each within 2σ), 1 mode with 5 stragglers within 1σ (0.5%: not enough to
    # cover it), 45 points 4σ away from a mode, 50 points near the ring's middle: 1,000 points.
    points = torch.cat([around(centres[i], 300, 2 * std) for i in (0, 2, 5)] + [
        around(centres[6], 5, std), centres[1] + torch.tensor([4 * std, 0.0]) + around(torch.zeros(2), 45, 0.1 * std),
        torch.rand(50, 2, generator=gen) * 0.4 - 0.2])
    got = call_exercise(coverage_fn, points, centres, std, name="mode_coverage")
    if not isinstance(got, tuple) or len(got) != 2:
        fail(f"mode_coverage should return a pair (modes covered, high-quality share), got {got!r}.")
    modes, hq = int(got[0]), float(got[1])
    expect(modes, 3, {
        "4 modes counted, expected 3: a mode with 5 of 1000 points (0.5%) is not covered (1% needed).": 4,
        "all 8 modes counted: every mode has a nearest point, but most have none within 3·std.": 8,
    }, f"{modes} modes counted, expected 3.", "nearest centre within 3·std, count per centre, ≥ 1% of the samples.")
    start = f"high-quality share {hq:.3f}, expected 0.905"
    if hq > 0.935:
        fail(f"{start}: points 4σ away were counted.", "use 3·std, not a wider radius.")
    if hq < 0.805:
        fail(f"{start}: too few points counted.", "use 3·std (not 1·std); count points near any mode, covered or not.")
    if abs(hq - 0.905) > 1e-3:
        fail(f"{start}.", "the share of all points whose nearest centre is within 3·std.")
    passed(f"Mode coverage: {modes} of 8 modes, {hq:.1%} high-quality samples.")
