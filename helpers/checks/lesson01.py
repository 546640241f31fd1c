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

    At a point, D's share of V is a log D + b log(1 - D) with a = p_data, b = p_g; its derivative
    a / D - b / (1 - D) is zero at D = a / (a + b), a maximum (the share is concave in D).
    """
    p_data = torch.tensor([0.5, 0.2, 0.0, 0.3, 0.0, 1.0, 0.25])
    p_g = torch.tensor([0.5, 0.6, 0.4, 0.0, 0.0, 3.0, 0.05])
    expected = torch.tensor([0.5, 0.25, 0.0, 1.0, 0.5, 0.25, 0.25 / 0.3])
    given = (p_data.clone(), p_g.clone())
    got = call_exercise(optimal_discriminator, *given, name="optimal_discriminator")
    if not (torch.equal(given[0], p_data) and torch.equal(given[1], p_g)):
        fail("optimal_discriminator changed the densities it was given.",
             "compute a new tensor; leave the inputs alone.")
    fail_unless_shape(got, (7,), "for densities of shape (7,) D* should have shape (7,), one value per point",
                      "D* is a value at each point, not a mean over the points.")
    got, both, ends = got.detach().float(), [0, 1, 5, 6], [0, 1, 2, 3, 5, 6]  # both: where both densities are > 0
    for (what, hint), value in {
        ("these values are 1 - D*: the probability that a point is fake.", "D says how likely a point is real: "
         "the larger p_data is next to p_g, the closer to 1."): 1 - expected[both],
        ("these values are p_data / p_g, the density ratio: above 1 where the data are denser, not a probability.",
         "D* compares p_data with the total density of samples at the point, real and fake."): (p_data / p_g)[both],
    }.items():
        if torch.allclose(got[both], value, atol=1e-5):
            fail(what, hint)
    if not torch.isfinite(got[ends]).all():
        fail("D* is NaN or inf where only one density is positive.",
             "where only real points land, D can say 'real' with certainty; where only fakes land, 'fake'.")
    if not torch.isfinite(got[4]):
        fail(f"at a point where neither density is positive D* is {got[4].item()}: a 0/0.",
             "no sample lands there, so any value maximises the share: give 1/2 there, and keep the division "
             "from ever seeing a zero (a NaN also poisons the gradient of a torch.where).")
    if not torch.allclose(got[ends], expected[ends], atol=1e-5):
        fail(f"D* = {[round(v, 3) for v in got.tolist()]} for p_data = {p_data.tolist()}, p_g = {p_g.tolist()}; "
             f"expected {[round(v, 3) for v in expected.tolist()]}.",
             "set the derivative of p_data log D + p_g log(1 - D) with respect to D to zero and solve for D.")
    if abs(got[4].item() - 0.5) > 1e-6:
        fail(f"where neither density is positive D* is {got[4].item():.3g}; the exercise asks for 1/2 there.",
             "any value maximises the share there; 1/2 says 'cannot tell'.")
    passed("Optimal discriminator: D* = 1/2 where p_data = p_g, 1 where only real points land, 0 where only "
           "fakes do, 1/2 where nothing lands.")


def _run_step(step: Callable, player: str, *args) -> tuple[Tensor, Tensor]:
    """Run a D or G step on small networks; return its loss and D's outputs on the fakes, checked for shape."""
    name, names = f"{player.lower()}_step", ("d_loss, d_real, d_fake" if player == "D" else "g_loss, d_fake")
    try:
        out = call_exercise(step, *args, name=name)
    except NameError as error:
        fail(f"{name} uses a name it is not given: {error}.",
             "use only its arguments and `criterion`; the check runs it on its own small networks.")
    except RuntimeError as error:
        if "does not require grad" not in str(error):
            raise
        fail(f"{name}'s loss has no gradient to follow: {str(error).splitlines()[0]}",
             "the generator's step needs the gradient to flow through D into G: do not detach its fakes.")
    if not isinstance(out, tuple) or len(out) != len(names.split(", ")):
        fail(f"{name} should return ({names}), got {type(out).__name__}.", f"end with `return {names}`.")
    fail_unless_one_number(out[0], f"{name}'s first result, the loss")
    for output in out[1:]:
        fail_unless_shape(output, (8, 1), f"{name} should return D's outputs of shape (8, 1)",
                          "return D's outputs, not their mean.")
    return out[0].detach(), out[-1].detach()


def _check_update(player: str, model: nn.Module, before: Tensor, grad: Tensor, other: nn.Module,
                  other_before: Tensor) -> None:
    """Fail unless `model` took one SGD step (lr 0.1) along `grad` from fresh gradients and `other` stayed."""
    other_name = "G" if player == "D" else "D"
    if not torch.equal(flat(other.parameters()).detach(), other_before):
        fail(f"the {player} step changed {other_name}'s weights.",
             f"only {player.lower()}_optimizer steps in the {player} step; {other_name} is the other player.")
    if player == "D" and any(p.grad is not None and p.grad.any() for p in other.parameters()):
        fail("after the D step, G's parameters hold gradients: d_loss was backpropagated into G.",
             "detach the fakes before D sees them: D's loss must stop at D.")
    moved = flat(model.parameters()).detach() - before
    if moved.abs().max() < 1e-8:
        if player == "G" and all(p.grad is None or not p.grad.any() for p in model.parameters()):
            fail("the G step left G unchanged and without a gradient: the fakes were detached.",
                 "in the G step the gradient must flow through D into G: do not detach here.")
        fail(f"the {player} step did not change {player}'s weights.",
             f"zero the gradients, backpropagate the loss, step {player.lower()}_optimizer: in that order.")
    if torch.allclose(moved, -0.1 * (grad + 1), atol=1e-5):
        fail(f"{player} moved by its gradient plus a leftover: .grad still held what an earlier backward put there.",
             f"zero {player}'s gradients before backpropagating: PyTorch adds gradients up.")
    if not torch.allclose(moved, -0.1 * grad, atol=1e-5):
        fail(f"{player}'s update is not one optimiser step on {player.lower()}_loss.",
             "zero the gradients, backpropagate, step the optimiser: once each.")


def _tiny_gan(stale: str) -> tuple[nn.Module, nn.Module, Tensor, Tensor]:
    """A 2-D G (Linear), D (Linear + Sigmoid), 8 points and 8 noise vectors; `stale`'s .grad holds a leftover 1."""
    torch.manual_seed(0)
    generator, discriminator = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    for param in (discriminator if stale == "D" else generator).parameters():
        param.grad = torch.ones_like(param)
    return generator, discriminator, torch.randn(8, 2), torch.randn(8, 2)


def check_d_step(d_step: Callable) -> None:
    """Lesson 01: one D update, minimising mean(-log D(x)) + mean(-log(1 - D(G(z)))); G untouched."""
    generator, discriminator, real, noise = _tiny_gan("D")
    with torch.enable_grad():  # the reference answer, on a copy
        ref = copy.deepcopy(discriminator)
        d_real, d_fake = ref(real), ref(generator(noise).detach())
        expected = (-torch.log(d_real)).mean() + (-torch.log(1 - d_fake)).mean()
        grad = torch.cat([g.flatten() for g in torch.autograd.grad(expected, list(ref.parameters()))])
    g_before, d_before = flat(generator.parameters()).detach(), flat(discriminator.parameters()).detach()
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    d_loss, _ = _run_step(d_step, "D", discriminator, generator, real, noise, optimizer)
    expect(d_loss, expected, {
        ("the labels are swapped.", "D wants to call reals real and fakes fake: reals get label 1, fakes label 0."):
            (-torch.log(1 - d_real)).mean() + (-torch.log(d_fake)).mean(),
        ("that is half of it.", "this lesson adds the two BCE terms (each a batch mean), as V does; it does not "
         "average them."): expected / 2,
    }, f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(x)) + mean(-log(1 - D(G(z)))).",
        "two BCE terms, reals against label 1 and fakes against label 0, computed before the update.")
    _check_update("D", discriminator, d_before, grad, generator, g_before)
    passed(f"D step: d_loss {d_loss.item():.4f} (labels 1 and 0, terms summed), fakes detached, "
           "gradients zeroed, only D moved.")


def check_g_step(g_step: Callable) -> None:
    """Lesson 01: one G update on the non-saturating loss mean(-log D(G(z))); D untouched."""
    generator, discriminator, _, noise = _tiny_gan("G")
    with torch.enable_grad():
        ref = copy.deepcopy(generator)
        d_fake = discriminator(ref(noise))
        expected = (-torch.log(d_fake)).mean()
        grad = torch.cat([g.flatten() for g in torch.autograd.grad(expected, list(ref.parameters()))])
    d_fake = d_fake.detach()
    g_before, d_before = flat(generator.parameters()).detach(), flat(discriminator.parameters()).detach()
    optimizer = torch.optim.SGD(generator.parameters(), lr=0.1)
    g_loss, _ = _run_step(g_step, "G", discriminator, generator, noise, optimizer)
    expect(g_loss, expected, {
        ("that is the saturating loss log(1 - D(G(z))).", "it has almost no gradient while D rejects the fakes; "
         "minimise -log D(G(z)) = BCE(D(G(z)), 1)."): torch.log(1 - d_fake).mean(),
        ("the fakes were labelled 0, so G would help D reject them.",
         "the generator wants D to call its fakes real: label them 1."): (-torch.log(1 - d_fake)).mean(),
    }, f"g_loss = {g_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(G(z))).",
        "BCE of D's output on the fakes against label 1, computed before the update.")
    _check_update("G", generator, g_before, grad, discriminator, d_before)
    passed(f"G step: g_loss {g_loss.item():.4f} (non-saturating, fakes labelled 1), gradients zeroed, "
           "only G moved.")


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
