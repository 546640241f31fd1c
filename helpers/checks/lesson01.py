"""Checks for lesson 01, the harmonic-curve GAN."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parameters_to_vector as flat

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, passed


def check_optimal_discriminator(optimal_discriminator: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Lesson 01: D*(x) = p_data(x) / (p_data(x) + p_g(x)) at each point, and 1/2 where neither density is positive.
    D's share of V at a point, p_data log D + p_g log(1 - D), is concave in D: set its derivative to zero."""
    p_data = torch.tensor([0.5, 0.2, 0.0, 0.3, 0.0, 1.0, 0.25])
    p_g = torch.tensor([0.5, 0.6, 0.4, 0.0, 0.0, 3.0, 0.05])
    expected = torch.tensor([0.5, 0.25, 0.0, 1.0, 0.5, 0.25, 0.25 / 0.3])
    given = (p_data.clone(), p_g.clone())
    got = call_exercise(optimal_discriminator, *given, name="optimal_discriminator")
    if not (torch.equal(given[0], p_data) and torch.equal(given[1], p_g)):
        fail("optimal_discriminator changed the densities it was given.", "compute a new tensor.")
    fail_unless_shape(got, (7,), "for densities of shape (7,) D* should have shape (7,)",
                      "D* is one value per point, not a mean over the points.")
    got, both, ends = got.detach().float(), [0, 1, 5, 6], [0, 1, 2, 3, 5, 6]  # both: where both densities are > 0
    for what, value in {"these values are 1 - D*: the probability that a point is fake.": 1 - expected[both],
                        "these values are p_data / p_g, the density ratio, not a probability.":
                            (p_data / p_g)[both]}.items():
        if torch.allclose(got[both], value, atol=1e-5):
            fail(what, "D* compares p_data with the total density of samples at the point, real and fake.")
    if not torch.isfinite(got[ends]).all():
        fail("D* is NaN or inf where only one density is positive.", "D* is 1 where only reals land, 0 for fakes.")
    if not torch.isfinite(got[4]):
        fail(f"where neither density is positive D* is {got[4].item()}: a 0/0.", "give 1/2 there, and keep the "
             "division from ever seeing a zero (a NaN also poisons the gradient of a torch.where).")
    if not torch.allclose(got[ends], expected[ends], atol=1e-5):
        fail(f"D* = {[round(v, 3) for v in got.tolist()]} for p_data = {p_data.tolist()}, p_g = {p_g.tolist()}; "
             f"expected {[round(v, 3) for v in expected.tolist()]}.",
             "set the derivative of p_data log D + p_g log(1 - D) with respect to D to zero and solve for D.")
    if abs(got[4].item() - 0.5) > 1e-6:
        fail(f"where neither density is positive D* is {got[4].item():.3g}; the exercise asks for 1/2 there.",
             "any value maximises the share there; 1/2 says 'cannot tell'.")
    passed("Optimal discriminator: 1/2 where p_data = p_g or nothing lands, 1 where only reals do, 0 for fakes.")


def _check_step(step: Callable, player: str, loss: Callable, mistakes: Callable, hint: str) -> Tensor:
    """Run a D or G step (SGD, lr 0.1) on a 2-D GAN whose `player` .grad holds a leftover 1; fail on a mistake.
    loss(d_real, d_fake) is what the step minimises; mistakes(d_real, d_fake) -> {message: the loss it gives}."""
    torch.manual_seed(0)
    generator, discriminator = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    model, other, other_name = (discriminator, generator, "G") if player == "D" else (generator, discriminator, "D")
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    real, noise, ref = torch.randn(8, 2), torch.randn(8, 2), copy.deepcopy(model)
    with torch.enable_grad():  # the reference answer, on a copy
        d, g = (ref, generator) if player == "D" else (discriminator, ref)
        d_real, d_fake = d(real), d(g(noise) if player == "G" else g(noise).detach())
        expected = loss(d_real, d_fake)
        grad = flat(torch.autograd.grad(expected, list(ref.parameters())))
    before, other_before = flat(model.parameters()).detach(), flat(other.parameters()).detach()
    name, names = f"{player.lower()}_step", "d_loss, d_real, d_fake" if player == "D" else "g_loss, d_fake"
    args = (real, noise) if player == "D" else (noise,)
    try:
        out = call_exercise(step, discriminator, generator, *args, torch.optim.SGD(model.parameters(), lr=0.1),
                            name=name)
    except NameError as error:
        fail(f"{name} uses a name it is not given: {error}.", "use only its arguments and `criterion`.")
    except RuntimeError as error:
        if "does not require grad" not in str(error):
            raise
        fail(f"{name}'s loss has no gradient to follow: {str(error).splitlines()[0]}", "do not detach G's fakes.")
    if not isinstance(out, tuple) or len(out) != len(names.split(", ")):
        fail(f"{name} should return ({names}), got {type(out).__name__}.", f"end with `return {names}`.")
    fail_unless_one_number(out[0], f"{name}'s first result, the loss")
    for output in out[1:]:
        fail_unless_shape(output, (8, 1), f"{name} should return D's outputs of shape (8, 1)", "not their mean.")
    got = out[0].detach()
    expect(got, expected, mistakes(d_real, d_fake), f"{name[0]}_loss = {got.item():.4f}, expected "
           f"{expected.item():.4f}.", hint)
    if not torch.equal(flat(other.parameters()).detach(), other_before):
        fail(f"the {player} step changed {other_name}'s weights.", f"only {name[0]}_optimizer steps here.")
    if player == "D" and any(p.grad is not None and p.grad.any() for p in other.parameters()):
        fail("after the D step, G's parameters hold gradients: d_loss was backpropagated into G.",
             "detach the fakes before D sees them: D's loss must stop at D.")
    moved = flat(model.parameters()).detach() - before
    if moved.abs().max() < 1e-8:
        if player == "G" and all(p.grad is None or not p.grad.any() for p in model.parameters()):
            fail("the G step left G without a gradient: the fakes were detached.", "G learns through D: do not detach.")
        fail(f"the {player} step did not change {player}'s weights.", "zero the gradients, backpropagate, step.")
    if torch.allclose(moved, -0.1 * (grad + 1), atol=1e-5):
        fail(f"{player} moved by its gradient plus a leftover: .grad still held an earlier backward's.",
             f"zero {player}'s gradients before backpropagating: PyTorch adds gradients up.")
    if not torch.allclose(moved, -0.1 * grad, atol=1e-5):
        fail(f"{player}'s update is not one optimiser step on {name[0]}_loss.", "zero, backpropagate, step: once each.")
    return got


def check_d_step(d_step: Callable) -> None:
    """Lesson 01: one D update, minimising mean(-log D(x)) + mean(-log(1 - D(G(z)))); G untouched."""
    d_loss = _check_step(d_step, "D", lambda d_real, d_fake: -d_real.log().mean() - (1 - d_fake).log().mean(),
                         lambda d_real, d_fake: {
                             "the labels are swapped: reals get label 1, fakes label 0.":
                                 -(1 - d_real).log().mean() - d_fake.log().mean(),
                             "that is half of it: add the two BCE terms, as V does; do not average them.":
                                 -(d_real.log().mean() + (1 - d_fake).log().mean()) / 2},
                         "two BCE terms, reals against label 1 and fakes against label 0, before the update.")
    passed(f"D step: d_loss {d_loss.item():.4f} (labels 1 and 0, summed), fakes detached, only D moved.")


def check_g_step(g_step: Callable) -> None:
    """Lesson 01: one G update on the non-saturating loss mean(-log D(G(z))); D untouched."""
    g_loss = _check_step(g_step, "G", lambda d_real, d_fake: -d_fake.log().mean(), lambda d_real, d_fake: {
        "that is the saturating loss log(1 - D(G(z))): almost no gradient while D rejects the fakes.":
            (1 - d_fake).log().mean(),
        "the fakes were labelled 0, so G would help D reject them.": -(1 - d_fake).log().mean(),
    }, "BCE of D's output on the fakes against label 1, before the update.")
    passed(f"G step: g_loss {g_loss.item():.4f} (non-saturating, fakes labelled 1), gradients zeroed, only G moved.")


def check_harmonic_gan(curve_error: float, coverage: float,
                       max_error: float = 0.1, max_coverage: float = 0.3) -> None:
    """Lesson 01: after training, points near the curve and spread along all of it."""
    if not (math.isfinite(curve_error) and math.isfinite(coverage)):
        fail(f"the metrics are not finite (curve error {curve_error}, coverage {coverage}).")
    if curve_error > max_error:
        fail(f"curve error {curve_error:.3f} is above {max_error}: generated points are off the curve.",
             "check the G step (fakes labelled 1) and that D sees detached fakes in the D step.")
    if coverage > max_coverage:
        fail(f"spread distance {coverage:.3f} is above {max_coverage}: the points do not spread evenly along the "
             "curve.", "if they bunch on part of it, that is mode collapse; see the 'break it' section.")
    passed(f"Trained GAN: curve error {curve_error:.3f} ≤ {max_error}, spread {coverage:.3f} ≤ {max_coverage}.")
