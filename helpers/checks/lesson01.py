"""Checks for lesson 01, the harmonic-curve GAN."""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn

from helpers.checks import call_exercise, check_probabilities, fail, fail_unless_one_number, is_close, passed


def check_discriminator(make_discriminator: Callable[[], nn.Module]) -> None:
    """Lesson 01's discriminator, given in the lesson: (N, 2) points to (N, 1) probabilities, something to learn."""
    torch.manual_seed(0)
    discriminator = call_exercise(make_discriminator, name="make_discriminator")
    if not isinstance(discriminator, nn.Module):
        fail(f"make_discriminator() should return an nn.Module, got {type(discriminator).__name__}.")
    points = torch.randn(16, 2)
    with torch.no_grad():
        out = discriminator(points)
        far = discriminator(torch.randn(256, 2) * 10)  # points far from the data: still probabilities
    if tuple(out.shape) != (16, 1):
        fail(f"D(points) for points of shape (16, 2) should have shape (16, 1), got {tuple(out.shape)}.",
             "the last Linear layer needs out_features=1.")
    check_probabilities(torch.cat([out, far]), "D")
    hidden = [m for m in discriminator.modules() if isinstance(m, nn.Linear)]
    if len(hidden) < 2:
        fail(f"D has {len(hidden)} Linear layer(s); a single layer can only draw a straight "
             "boundary, but real points lie on a curve.", "use at least one hidden layer.")
    passed(f"Discriminator: (16, 2) -> (16, 1) probabilities, {len(hidden)} linear layers.")


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
    if not isinstance(got, Tensor):
        fail(f"optimal_discriminator should return a tensor, got {type(got).__name__}.")
    if not (torch.equal(given[0], p_data) and torch.equal(given[1], p_g)):
        fail("optimal_discriminator changed the densities it was given.",
             "compute a new tensor; leave the inputs alone.")
    if tuple(got.shape) != (7,):
        fail(f"for densities of shape (7,) D* should have shape (7,), one value per point; "
             f"got {tuple(got.shape)}.",
             "D* is a value at each point, not a mean over the points.")
    got = got.detach().float()
    both_positive = (p_data > 0) & (p_g > 0)
    if torch.allclose(got[both_positive], 1 - expected[both_positive], atol=1e-5):
        fail("these values are 1 - D*: the probability that a point is fake.",
             "D says how likely a point is real: the larger p_data is next to p_g, the closer to 1.")
    if (got[both_positive] > 1).any() and torch.allclose(got[both_positive], (p_data / p_g)[both_positive], atol=1e-5):
        fail("these values are p_data / p_g, the density ratio: above 1 where the data are denser, not a probability.",
             "D* compares p_data with the total density of samples at the point, real and fake.")
    if not torch.isfinite(got[:4]).all() or not torch.isfinite(got[5:]).all():
        fail("D* is NaN or inf where only one density is positive.",
             "where only real points land, D can say 'real' with certainty; where only fakes land, 'fake'.")
    if not torch.isfinite(got[4]):
        fail(f"at a point where neither density is positive D* is {got[4].item()}: a 0/0.",
             "no sample lands there, so any value maximises the share: give 1/2 there, and keep the division "
             "from ever seeing a zero (a NaN also poisons the gradient of a torch.where).")
    if not torch.allclose(got[[0, 1, 2, 3, 5, 6]], expected[[0, 1, 2, 3, 5, 6]], atol=1e-5):
        fail(f"D* = {[round(v, 3) for v in got.tolist()]} for p_data = {p_data.tolist()}, p_g = {p_g.tolist()}; "
             f"expected {[round(v, 3) for v in expected.tolist()]}.",
             "set the derivative of p_data log D + p_g log(1 - D) with respect to D to zero and solve for D.")
    if abs(got[4].item() - 0.5) > 1e-6:
        fail(f"where neither density is positive D* is {got[4].item():.3g}; the exercise asks for 1/2 there.",
             "any value maximises the share there; 1/2 says 'cannot tell'.")
    passed("Optimal discriminator: D* = 1/2 where p_data = p_g, 1 where only real points land, 0 where only "
           "fakes do, 1/2 where nothing lands.")


def _tiny_harmonic_gan(stale_grads: str) -> tuple[nn.Module, nn.Module, Tensor, Tensor]:
    """A fixed 2-D G (Linear) and D (Linear + Sigmoid), a batch of 8 points and 8 noise vectors.

    `stale_grads` ("discriminator" or "generator") gets a leftover gradient of 1 in every .grad, as
    the other player's step leaves there: an update that forgets to zero it moves by lr too far.
    """
    torch.manual_seed(0)
    generator = nn.Linear(2, 2)
    discriminator = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    for param in (discriminator if stale_grads == "discriminator" else generator).parameters():
        param.grad = torch.ones_like(param)
    return generator, discriminator, torch.randn(8, 2), torch.randn(8, 2)


def _flat(module: nn.Module) -> Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _flat_grad(module: nn.Module) -> Tensor:
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
                      for p in module.parameters()])


def _call_step(step: Callable, *args, name: str, given: str):
    try:
        return call_exercise(step, *args, name=name)
    except NameError as error:
        fail(f"{name} uses a name it is not given: {error}.",
             f"use only its arguments ({given}) and `criterion`; the check runs it on its own small networks.")
    except RuntimeError as error:
        if "does not require grad" not in str(error):
            raise
        fail(f"{name}'s loss has no gradient to follow: {str(error).splitlines()[0]}",
             "the generator's step needs the gradient to flow through D into G: do not detach its fakes.")


def _three(out, name: str, names: str, n: int) -> tuple[Tensor, ...]:
    if not isinstance(out, tuple) or len(out) != len(names.split(", ")):
        fail(f"{name} should return ({names}), got {type(out).__name__}.",
             f"end with `return {names}`.")
    loss, *outputs = out
    fail_unless_one_number(loss, f"{name}'s first result should be the loss, a single-number tensor, "
                            f"got {loss!r}.")
    for output in outputs:
        if not isinstance(output, Tensor) or tuple(output.shape) != (n, 1):
            fail(f"{name} should return D's outputs of shape ({n}, 1), got "
                 f"{getattr(output, 'shape', output)!r}.", "return D's outputs, not their mean.")
    return out


def check_d_step(d_step: Callable) -> None:
    """Lesson 01: one D update, minimising mean(-log D(x)) + mean(-log(1 - D(G(z)))); G untouched."""
    generator, discriminator, real, noise = _tiny_harmonic_gan(stale_grads="discriminator")
    lr = 0.1
    with torch.enable_grad():  # the reference answer, on a copy
        ref = copy.deepcopy(discriminator)
        d_real, d_fake = ref(real), ref(generator(noise).detach())
        expected = (-torch.log(d_real)).mean() + (-torch.log(1 - d_fake)).mean()
        grad = torch.cat([g.flatten() for g in torch.autograd.grad(expected, list(ref.parameters()))])
    g_before, d_before = _flat(generator), _flat(discriminator)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=lr)
    out = _call_step(d_step, discriminator, generator, real, noise, d_optimizer, name="d_step",
                     given="discriminator, generator, real_points, noise, d_optimizer")
    d_loss, _, _ = _three(out, "d_step", "d_loss, d_real, d_fake", 8)
    swapped = (-torch.log(1 - d_real)).mean() + (-torch.log(d_fake)).mean()
    if is_close(d_loss, swapped):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f}: the labels are swapped.",
             "D wants to call reals real and fakes fake: reals get label 1, fakes label 0.")
    if is_close(d_loss, expected / 2):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f}: that is half of it.",
             "this lesson adds the two BCE terms (each a batch mean), as V does; it does not average them.")
    if not is_close(d_loss, expected):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(x)) "
             "+ mean(-log(1 - D(G(z)))).",
             "two BCE terms, reals against label 1 and fakes against label 0, computed before the update.")
    if not torch.equal(_flat(generator), g_before):
        fail("the D step changed G's weights.", "only d_optimizer steps in the D step; G is the other player.")
    if _flat_grad(generator).abs().sum() > 0:
        fail("after the D step, G's parameters hold gradients: d_loss was backpropagated into G.",
             "detach the fakes before D sees them: D's loss must stop at D.")
    moved = _flat(discriminator) - d_before
    if moved.abs().max() < 1e-8:
        fail("the D step did not change D's weights.",
             "zero the gradients, backpropagate d_loss, step d_optimizer: in that order.")
    if torch.allclose(moved, -lr * (grad + 1), atol=1e-5):
        fail("D moved by its gradient plus a leftover: .grad still held what an earlier backward put there "
             "(the G step also writes into D's .grad).",
             "zero D's gradients before backpropagating: PyTorch adds gradients up.")
    if not torch.allclose(moved, -lr * grad, atol=1e-5):
        fail("D's update is not one optimiser step on d_loss.",
             "zero the gradients, backpropagate, step the optimiser: once each.")
    passed(f"D step: d_loss {d_loss.item():.4f} (labels 1 and 0, terms summed), fakes detached, "
           "gradients zeroed, only D moved.")


def check_g_step(g_step: Callable) -> None:
    """Lesson 01: one G update on the non-saturating loss mean(-log D(G(z))); D untouched."""
    generator, discriminator, _, noise = _tiny_harmonic_gan(stale_grads="generator")
    lr = 0.1
    with torch.enable_grad():
        ref = copy.deepcopy(generator)
        d_fake = discriminator(ref(noise))
        expected = (-torch.log(d_fake)).mean()
        grad = torch.cat([g.flatten() for g in torch.autograd.grad(expected, list(ref.parameters()))])
    d_fake = d_fake.detach()
    g_before, d_before = _flat(generator), _flat(discriminator)
    g_optimizer = torch.optim.SGD(generator.parameters(), lr=lr)
    out = _call_step(g_step, discriminator, generator, noise, g_optimizer, name="g_step",
                     given="discriminator, generator, noise, g_optimizer")
    g_loss, _ = _three(out, "g_step", "g_loss, d_fake", 8)
    if is_close(g_loss, torch.log(1 - d_fake).mean()):
        fail(f"g_loss = {g_loss.item():.4f}: that is the saturating loss log(1 - D(G(z))).",
             "it has almost no gradient while D rejects the fakes; minimise -log D(G(z)) = BCE(D(G(z)), 1).")
    if is_close(g_loss, (-torch.log(1 - d_fake)).mean()):
        fail(f"g_loss = {g_loss.item():.4f}: the fakes were labelled 0, so G would help D reject them.",
             "the generator wants D to call its fakes real: label them 1.")
    if not is_close(g_loss, expected):
        fail(f"g_loss = {g_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(G(z))).",
             "BCE of D's output on the fakes against label 1, computed before the update.")
    if not torch.equal(_flat(discriminator), d_before):
        fail("the G step changed D's weights.", "only g_optimizer steps in the G step; D is the other player.")
    moved = _flat(generator) - g_before
    if moved.abs().max() < 1e-8:
        if _flat_grad(generator).abs().sum() == 0:
            fail("the G step left G unchanged and without a gradient: the fakes were detached.",
                 "in the G step the gradient must flow through D into G: do not detach here.")
        fail("the G step did not change G's weights.",
             "zero the gradients, backpropagate g_loss, step g_optimizer: in that order.")
    if torch.allclose(moved, -lr * (grad + 1), atol=1e-5):
        fail("G moved by its gradient plus a leftover: .grad still held what an earlier backward put there.",
             "zero G's gradients before backpropagating: PyTorch adds gradients up.")
    if not torch.allclose(moved, -lr * grad, atol=1e-5):
        fail("G's update is not one optimiser step on g_loss.",
             "zero the gradients, backpropagate, step the optimiser: once each.")
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
        fail(f"spread distance {coverage:.3f} is above {max_coverage}: "
             "the points do not spread evenly along the curve.",
             "if they bunch on part of it, that is mode collapse; see the 'break it' section.")
    passed(f"Trained GAN: curve error {curve_error:.3f} ≤ {max_error}, spread {coverage:.3f} ≤ {max_coverage}.")
