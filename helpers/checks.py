"""Check cells: run after each exercise, they print a pass line or explain what is wrong.

Every check raises AssertionError on a wrong answer (so a broken solution fails CI) with a
message that says what was expected, what came, and a hint.

The module is sectioned by lesson (`# --- Lesson NN: … ---` headers, in lesson order), with the
small private helpers the checks share above the first section. It stays one module rather than
one per lesson: every lesson needs one import (`helpers.checks`) for all its checks, and a check is
found by its exercise's name (`check_g_block` for the `g_block` exercise), not by its lesson.
"""
from __future__ import annotations

import copy
import math
from typing import Callable

import torch
from torch import Tensor, nn

from helpers import image_to_image, losses, metrics, models, training, vae


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
    except RuntimeError as error:
        if "between 0 and 1" not in str(error):
            raise
        fail(f"{name} gave nn.BCELoss numbers outside [0, 1]: {str(error).splitlines()[0]}",
             "BCELoss wants probabilities; this D returns logits. Use the `criterion` passed in "
             "(BCEWithLogitsLoss here) instead of a hard-coded nn.BCELoss().")


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    a, b = (x.detach() if isinstance(x, Tensor) else x for x in (a, b))
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def _fail_unless_one_number(value: object, message: str) -> None:
    """Fail with `message` unless `value` is a tensor holding exactly one number."""
    if not isinstance(value, Tensor) or value.numel() != 1:
        fail(message)


def _fail_unless_gradient_reaches(loss: Tensor, module: nn.Module, what: str, hint: str) -> None:
    """Backpropagate `loss` from fresh gradients; fail with `what` and `hint` if every
    parameter of `module` is left without a gradient (or with an all-zero one)."""
    module.zero_grad()
    loss.backward()
    if all(p.grad is None or p.grad.abs().sum() == 0 for p in module.parameters()):
        fail(what, hint)


# --- Lesson 01: the harmonic-curve GAN -------------------------------------------------------

def _check_probabilities(out: Tensor, name: str) -> None:
    """Fail unless `out` holds probabilities that depend on the input: in (0, 1), not all equal."""
    if not torch.isfinite(out).all():
        fail(f"{name} returned NaN or inf.", "check the layers for a division or a log.")
    if out.max() - out.min() < 1e-6:
        fail(f"{name} gives the same output ({out.flatten()[0]:.4g}) for every input, so it cannot "
             "tell real from fake.", "end with nn.Sigmoid(), not Softmax: a softmax over one number is always 1.")
    if out.min() <= 0 or out.max() >= 1:
        fail(f"{name} should output probabilities strictly between 0 and 1, got values from "
             f"{out.min():.3g} to {out.max():.3g}.",
             "end the network with nn.Sigmoid() (ReLU is not bounded, Softmax over one output is always 1).")


def check_discriminator(make_discriminator: Callable[[], nn.Module]) -> None:
    """Lesson 01: D maps (N, 2) points to (N, 1) probabilities and has something to learn."""
    torch.manual_seed(0)
    discriminator = _call(make_discriminator, name="make_discriminator")
    if not isinstance(discriminator, nn.Module):
        fail(f"make_discriminator() should return an nn.Module, got {type(discriminator).__name__}.")
    points = torch.randn(16, 2)
    with torch.no_grad():
        out = discriminator(points)
        far = discriminator(torch.randn(256, 2) * 10)  # points far from the data: still probabilities
    if tuple(out.shape) != (16, 1):
        fail(f"D(points) for points of shape (16, 2) should have shape (16, 1), got {tuple(out.shape)}.",
             "the last Linear layer needs out_features=1.")
    _check_probabilities(torch.cat([out, far]), "D")
    hidden = [m for m in discriminator.modules() if isinstance(m, nn.Linear)]
    if len(hidden) < 2:
        fail(f"D has {len(hidden)} Linear layer(s); a single layer can only draw a straight "
             "boundary, but real points lie on a curve.", "use at least one hidden layer.")
    passed(f"Discriminator: (16, 2) -> (16, 1) probabilities, {len(hidden)} linear layers.")


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
        return _call(step, *args, name=name)
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
    _fail_unless_one_number(loss, f"{name}'s first result should be the loss, a single-number tensor, "
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
    if _close(d_loss, swapped):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f}: the labels are swapped.",
             "D wants to call reals real and fakes fake: reals get label 1, fakes label 0.")
    if _close(d_loss, expected / 2):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f}: that is half of it.",
             "this lesson adds the two BCE terms (each a batch mean), as V does; it does not average them.")
    if not _close(d_loss, expected):
        fail(f"d_loss = {d_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(x)) "
             "+ mean(-log(1 - D(G(z)))).",
             "criterion(D(real), ones) + criterion(D(fake), zeros), computed before the update.")
    if not torch.equal(_flat(generator), g_before):
        fail("the D step changed G's weights.", "only d_optimizer steps in the D step; G is the other player.")
    if _flat_grad(generator).abs().sum() > 0:
        fail("after the D step, G's parameters hold gradients: d_loss was backpropagated into G.",
             "detach the fakes (generator(noise).detach()) before D sees them: D's loss must stop at D.")
    moved = _flat(discriminator) - d_before
    if moved.abs().max() < 1e-8:
        fail("the D step did not change D's weights.",
             "zero the gradients, then d_loss.backward(), then d_optimizer.step(), in that order.")
    if torch.allclose(moved, -lr * (grad + 1), atol=1e-5):
        fail("D moved by its gradient plus a leftover: .grad still held what an earlier backward put there "
             "(the G step also writes into D's .grad).",
             "call d_optimizer.zero_grad() before d_loss.backward(): PyTorch adds gradients up.")
    if not torch.allclose(moved, -lr * grad, atol=1e-5):
        fail("D's update is not one optimiser step on d_loss.",
             "one d_optimizer.zero_grad(), one d_loss.backward(), one d_optimizer.step().")
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
    if _close(g_loss, torch.log(1 - d_fake).mean()):
        fail(f"g_loss = {g_loss.item():.4f}: that is the saturating loss log(1 - D(G(z))).",
             "it has almost no gradient while D rejects the fakes; minimise -log D(G(z)) = BCE(D(G(z)), 1).")
    if _close(g_loss, (-torch.log(1 - d_fake)).mean()):
        fail(f"g_loss = {g_loss.item():.4f}: the fakes were labelled 0, so G would help D reject them.",
             "the generator wants D to call its fakes real: label them 1.")
    if not _close(g_loss, expected):
        fail(f"g_loss = {g_loss.item():.4f}, expected {expected.item():.4f} = mean(-log D(G(z))).",
             "criterion(D(G(noise)), ones), computed before the update.")
    if not torch.equal(_flat(discriminator), d_before):
        fail("the G step changed D's weights.", "only g_optimizer steps in the G step; D is the other player.")
    moved = _flat(generator) - g_before
    if moved.abs().max() < 1e-8:
        if _flat_grad(generator).abs().sum() == 0:
            fail("the G step left G unchanged and without a gradient: the fakes were detached.",
                 "in the G step the gradient must flow through D into G: do not detach here.")
        fail("the G step did not change G's weights.",
             "zero the gradients, then g_loss.backward(), then g_optimizer.step(), in that order.")
    if torch.allclose(moved, -lr * (grad + 1), atol=1e-5):
        fail("G moved by its gradient plus a leftover: .grad still held what an earlier backward put there.",
             "call g_optimizer.zero_grad() before g_loss.backward(): PyTorch adds gradients up.")
    if not torch.allclose(moved, -lr * grad, atol=1e-5):
        fail("G's update is not one optimiser step on g_loss.",
             "one g_optimizer.zero_grad(), one g_loss.backward(), one g_optimizer.step().")
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
    _check_probabilities(out.detach(), "D with sigmoid=True")
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
        _fail_unless_one_number(d_loss, f"d_loss should be a one-number tensor, got {d_loss!r}.")
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
    _fail_unless_one_number(g_loss, f"generator_loss should return a one-number tensor, got {g_loss!r}.")
    if _close(g_loss.detach(), expected):
        _fail_unless_gradient_reaches(g_loss, generator,
                                      "the loss value is right but no gradient reached the generator.",
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
        _call(ema_update, ema_model, model, decay, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail("ema_update changed G's weights in place while autograd was recording.",
             "do the update under `with torch.no_grad():`, and change ema_model, not model.")
    if not torch.allclose(_flat_state(model.parameters()), model_before):
        fail("ema_update changed the model's weights; only the average should move.",
             "the first argument is the average: update ema_model's parameters towards model's.")
    if any(p.requires_grad or p.grad_fn is not None for p in ema_model.parameters()):
        fail("the averaged weights now carry an autograd graph back into G's weights (it grows every step).",
             "do the update under `with torch.no_grad():`.")
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
             "loop over zip(ema_model.parameters(), model.parameters()).")
    buffers = _flat_state(ema_model.buffers())
    if not torch.equal(buffers, model_buffers):
        hint = ("copy them: ema_buffer.copy_(buffer) for zip(ema_model.buffers(), model.buffers()).")
        if torch.equal(buffers, ema_buffers_before):
            fail("the buffers (BatchNorm's running mean and variance) were not copied.", hint)
        fail("the buffers were averaged; they are statistics of the current G, not weights.", hint)
    ema_model, model = _ema_models(requires_grad=True)  # a plain copy.deepcopy(model)
    try:
        _call(ema_update, ema_model, model, decay, name="ema_update")
    except RuntimeError as error:
        if "leaf Variable that requires grad" not in str(error):
            raise
        fail("on a plain copy.deepcopy(model), ema_update fails: an in-place change of a weight that "
             "requires grad, while autograd records.", "do the update under `with torch.no_grad():`.")
    passed(f"EMA update: decay {decay} keeps {decay:.0%} of the average, buffers copied, model untouched, "
           "no graph recorded.")


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


# --- Lesson 03: DCGAN on CelebA faces --------------------------------------------------------

def _layers(block: nn.Module) -> list[nn.Module]:
    return [m for m in block.modules() if not isinstance(m, nn.Sequential)]


def _built_block(make_block: Callable[..., nn.Module], args: tuple[int, ...], name: str,
                 holds: str, expected: list[str], hint: str) -> tuple[nn.Module, list[nn.Module]]:
    """Call make_block(*args); fail unless it is an nn.Module whose layers are `expected`.

    Returns the block and its layers (nested nn.Sequential containers flattened away).
    """
    block = _call(make_block, *args, name=name)
    if not isinstance(block, nn.Module):
        fail(f"{name}({', '.join(map(str, args))}) should return an nn.Module (an nn.Sequential), "
             f"got {type(block).__name__}.")
    layers = _layers(block)
    kinds = [type(m).__name__ for m in layers]
    if kinds != expected:
        fail(f"{holds} holds {kinds}; expected {', '.join(expected)} in that order.", hint)
    return block, layers


def _check_block_channels(conv: nn.Module, norm: nn.Module, call: str, in_channels: int,
                          out_channels: int) -> None:
    """Fail unless `conv` maps in_channels -> out_channels and `norm` is BatchNorm2d(out_channels)."""
    if (conv.in_channels, conv.out_channels, norm.num_features) != (in_channels, out_channels, out_channels):
        fail(f"{call} maps {conv.in_channels} -> {conv.out_channels} channels with "
             f"BatchNorm2d({norm.num_features}); expected {in_channels} -> {out_channels} and "
             f"BatchNorm2d({out_channels}).")


def check_g_block(g_block: Callable[[int, int], nn.Module]) -> None:
    """Lesson 03: g_block(in, out) doubles the size: ConvTranspose(4, 2, 1) -> BatchNorm -> ReLU."""
    torch.manual_seed(0)
    block, layers = _built_block(
        g_block, (16, 8), name="g_block", holds="g_block",
        expected=["ConvTranspose2d", "BatchNorm2d", "ReLU"],
        hint="a DCGAN generator block upsamples with a transposed convolution (no pooling, no "
             "Upsample), normalises with BatchNorm, then applies ReLU.")
    conv, norm = layers[0], layers[1]
    _check_block_channels(conv, norm, "g_block(16, 8)", in_channels=16, out_channels=8)
    if conv.bias is not None:
        fail("the ConvTranspose2d has a bias; BatchNorm right after it subtracts the mean, so the "
             "bias is wasted.", "pass bias=False.")
    out = block(torch.randn(2, 16, 4, 4))
    if tuple(out.shape) != (2, 8, 8, 8):
        fail(f"g_block(16, 8) on (2, 16, 4, 4) gave {tuple(out.shape)}; expected (2, 8, 8, 8) "
             "(channels 16 -> 8, size doubled).",
             "kernel_size=4, stride=2, padding=1 doubles the size: (4 - 1)·2 - 2·1 + 4 = 8.")
    if out.min() < 0:
        fail("g_block's output has negative values: the ReLU is missing or not last.")
    passed("Generator block: (2, 16, 4, 4) -> (2, 8, 8, 8), ConvTranspose2d(4, 2, 1) -> BatchNorm2d -> ReLU.")


def check_d_block(d_block: Callable[..., nn.Module]) -> None:
    """Lesson 03: d_block(in, out, batch_norm) halves the size: Conv(4, 2, 1) -> [BatchNorm] -> LeakyReLU(0.2)."""
    torch.manual_seed(0)
    block, layers = _built_block(
        d_block, (8, 16), name="d_block", holds="d_block(8, 16)",
        expected=["Conv2d", "BatchNorm2d", "LeakyReLU"],
        hint="a DCGAN discriminator block downsamples with a strided convolution (no pooling).")
    conv, norm, act = layers
    _check_block_channels(conv, norm, "d_block(8, 16)", in_channels=8, out_channels=16)
    if conv.bias is not None:
        fail("the Conv2d has a bias; BatchNorm right after it makes it useless.", "pass bias=False.")
    if not math.isclose(act.negative_slope, 0.2):
        fail(f"LeakyReLU slope is {act.negative_slope}; DCGAN uses 0.2.", "nn.LeakyReLU(0.2).")
    out = block(torch.randn(2, 8, 16, 16))
    if tuple(out.shape) != (2, 16, 8, 8):
        fail(f"d_block(8, 16) on (2, 8, 16, 16) gave {tuple(out.shape)}; expected (2, 16, 8, 8).",
             "kernel_size=4, stride=2, padding=1 halves the size: (16 + 2 - 4) / 2 + 1 = 8.")
    first = _call(d_block, 3, 8, False, name="d_block")
    kinds = [type(m).__name__ for m in _layers(first)]
    if kinds != ["Conv2d", "LeakyReLU"]:
        fail(f"d_block(3, 8, batch_norm=False) holds {kinds}; expected Conv2d, LeakyReLU.",
             "the first discriminator layer has no BatchNorm (the DCGAN paper: normalising the "
             "input layer made training unstable).")
    passed("Discriminator block: (2, 8, 16, 16) -> (2, 16, 8, 8), Conv2d(4, 2, 1) -> BatchNorm2d -> "
           "LeakyReLU(0.2); no BatchNorm when batch_norm=False.")


def check_weights_init(init_fn: Callable[[nn.Module], None]) -> None:
    """Lesson 03: conv weights ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128),
                          nn.ReLU(), nn.Conv2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64),
                          nn.LeakyReLU(0.2))
    try:
        model.apply(init_fn)
    except NotImplementedError:
        fail("init_weights is not written yet (it still raises NotImplementedError).")
    for conv in (model[0], model[3]):
        mean, std = conv.weight.mean().item(), conv.weight.std().item()
        name = type(conv).__name__
        if abs(mean) > 0.002 or not 0.018 < std < 0.022:
            hint = "use nn.init.normal_(module.weight, 0.0, 0.02)"
            if 0.18 < std < 0.22:
                hint = "0.02 is the standard deviation, not 0.2."
            elif 0.0003 < std < 0.0005:
                hint = "normal_'s third argument is the standard deviation: 0.02, not the variance 0.02²."
            fail(f"{name} weights have mean {mean:.4f} and std {std:.4f}; expected about 0 and 0.02.",
                 hint + " Check that init_weights handles both Conv2d and ConvTranspose2d.")
    for norm in (model[1], model[4]):
        mean, std = norm.weight.mean().item(), norm.weight.std().item()
        if abs(mean - 1) > 0.01 or not 0.012 < std < 0.03:
            fail(f"BatchNorm2d weights have mean {mean:.4f} and std {std:.4f}; expected about 1 and 0.02.",
                 "the BatchNorm scale starts near 1 (not 0: that would switch the layer off): "
                 "nn.init.normal_(module.weight, 1.0, 0.02).")
        if norm.bias.abs().max() > 0:
            fail("BatchNorm2d biases should start at 0.", "nn.init.zeros_(module.bias).")
    passed("Weight init: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02), BatchNorm shift 0.")


def check_dcgan_models(generator: nn.Module, discriminator: nn.Module, latent_dim: int,
                       image_size: int, channels: int = 3) -> None:
    """Lesson 03: the notebook's G and D have the shapes, and the weights layout, of helpers.models' DCGAN."""
    param = next(generator.parameters())
    z = torch.randn(4, latent_dim, device=param.device)
    with torch.no_grad():
        images = generator(z)
        out = discriminator(images)
    if tuple(images.shape) != (4, channels, image_size, image_size):
        fail(f"G(z) for z of shape (4, {latent_dim}) gave {tuple(images.shape)}; expected "
             f"(4, {channels}, {image_size}, {image_size}).")
    if images.min() < -1 or images.max() > 1:
        fail("G's images leave [-1, 1]: the generator should end with Tanh.")
    if tuple(out.shape) != (4, 1):
        fail(f"D(G(z)) gave shape {tuple(out.shape)}; expected (4, 1).")
    fm = generator.net[-2].in_channels if hasattr(generator, "net") else None
    reference = models.DCGANGenerator(latent_dim, fm or 64, channels, image_size)
    if models.count_parameters(generator) != models.count_parameters(reference):
        fail(f"G has {models.count_parameters(generator):,} parameters; the DCGAN generator of this size "
             f"has {models.count_parameters(reference):,}.")
    mine = {k: tuple(v.shape) for k, v in generator.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    if mine != theirs:
        fail("G's weights are laid out differently from helpers.models.DCGANGenerator, so its "
             "generator.pt could not be reused by later lessons.",
             "keep the layers in one nn.Sequential called `net`, one g_block per stage.")
    d_reference = models.DCGANDiscriminator(fm or 64, channels, image_size, sigmoid=False)
    if models.count_parameters(discriminator) != models.count_parameters(d_reference):
        fail(f"D has {models.count_parameters(discriminator):,} parameters; the DCGAN discriminator of "
             f"this size has {models.count_parameters(d_reference):,}.")
    passed(f"DCGAN: G (N, {latent_dim}) -> (N, {channels}, {image_size}, {image_size}) with "
           f"{models.count_parameters(generator):,} parameters, D -> (N, 1) with "
           f"{models.count_parameters(discriminator):,}; same layout as helpers.models.")


def check_dcgan_train_step(train_step: Callable) -> None:
    """Lesson 03: one D step then one G step, compared with helpers.training's reference steps."""

    torch.manual_seed(0)
    generator = models.DCGANGenerator(latent_dim=8, feature_maps=4, channels=3, image_size=32)
    discriminator = models.DCGANDiscriminator(feature_maps=4, channels=3, image_size=32, sigmoid=False)
    generator.apply(models.dcgan_init)
    discriminator.apply(models.dcgan_init)
    real_images = torch.rand(6, 3, 32, 32) * 2 - 1
    noise = torch.randn(6, 8)
    ref_g, ref_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    g_before = [p.detach().clone() for p in generator.parameters()]

    def adam(model):
        return torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.5, 0.999))

    g_optimizer, d_optimizer = adam(generator), adam(discriminator)
    ref_go, ref_do = adam(ref_g), adam(ref_d)
    criterion = nn.BCEWithLogitsLoss()
    expected = training.d_step(ref_d, ref_g, real_images, noise, ref_do, criterion)
    expected.update(training.g_step(ref_d, ref_g, noise, ref_go, criterion))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    got = _call(lambda: train_step(generator, discriminator, g_optimizer, d_optimizer,
                                   real_images, noise, scaler), name="train_step")
    if not isinstance(got, dict) or not {"d_loss", "g_loss", "d_real", "d_fake"} <= set(got):
        fail(f"train_step should return a dict with d_loss, g_loss, d_real, d_fake; got {got!r}.")
    got = {k: float(v) for k, v in got.items()}
    g_moved = any(not torch.equal(a, b) for a, b in zip(generator.parameters(), g_before))
    if not _close(got["d_loss"], expected["d_loss"], 1e-3):
        fail(f"d_loss = {got['d_loss']:.4f}, expected {expected['d_loss']:.4f}.",
             "D step: BCE(D(x), 1) + BCE(D(G(z).detach()), 0) with the discriminator's logits and "
             "nn.BCEWithLogitsLoss; real images are labelled 1, fakes 0.")
    for name in ("d_real", "d_fake"):
        if not _close(got[name], expected[name], 1e-3):
            fail(f"{name} = {got[name]:.4f}, expected {expected[name]:.4f}.",
                 f"{name} is the mean probability sigmoid(D(·)) on the "
                 f"{'real' if name == 'd_real' else 'fake'} batch, not the raw logit.")
    if not _close(got["g_loss"], expected["g_loss"], 1e-3):
        hint = ("G step: BCE(D(G(z)), 1), the non-saturating loss, computed with D *after* its "
                "update, and with the generator's gradient (no detach in the G step).")
        fail(f"g_loss = {got['g_loss']:.4f}, expected {expected['g_loss']:.4f}.", hint)
    for mine, ref, name in ((discriminator, ref_d, "discriminator"), (generator, ref_g, "generator")):
        gap = max((a - b).abs().max().item() for a, b in zip(mine.parameters(), ref.parameters()))
        if gap > 1e-4:
            fail(f"after train_step the {name}'s weights differ from the reference step by {gap:.2e}.",
                 f"call {'d' if name == 'discriminator' else 'g'}_optimizer.zero_grad() before the "
                 f"backward pass and scaler.step({'d' if name == 'discriminator' else 'g'}_optimizer) "
                 "after it, once per step; the D step must not update the generator.")
    if not g_moved:
        fail("the generator's weights did not change.", "call scaler.step(g_optimizer).")
    passed(f"Training step: d_loss {got['d_loss']:.4f}, g_loss {got['g_loss']:.4f}, D(x) "
           f"{got['d_real']:.3f}, D(G(z)) {got['d_fake']:.3f}: same as the reference D and G steps.")


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


def check_tv_loss(tv_loss_fn: Callable) -> None:
    """Lesson 04: TV = mean |vertical neighbour difference| + mean |horizontal neighbour difference|."""
    image = torch.tensor([[[[0.0, 0.5, 1.0],
                            [0.0, 0.0, 1.0]]]])  # (1, 1, 2, 3)
    vertical = (image[:, :, 1:, :] - image[:, :, :-1, :]).abs()    # (1, 1, 1, 3): 0, 0.5, 0
    horizontal = (image[:, :, :, 1:] - image[:, :, :, :-1]).abs()  # (1, 1, 2, 2): 0.5, 0.5, 0, 1
    expected = vertical.mean() + horizontal.mean()                  # 1/6 + 1/2
    got = _call(tv_loss_fn, image, name="tv_loss")
    _fail_unless_one_number(got, f"tv_loss should return a single-number tensor, got {got!r}.")
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


def check_lbfgs_closure(make_closure_fn: Callable) -> None:
    """Lesson 04: closure() zeroes the gradients, evaluates the loss once, backpropagates, returns the loss tensor."""
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    made: list[Tensor] = []

    def loss_fn() -> Tensor:
        made.append((w ** 2).sum())  # loss 5 at w = (1, -2), gradient 2w
        return made[-1]

    closure = _call(make_closure_fn, torch.optim.SGD([w], lr=0.1), loss_fn, name="make_closure")
    if not callable(closure):
        fail(f"make_closure should return the closure (a function), got {type(closure).__name__}.",
             "define closure() inside make_closure and return it without calling it: `return closure`.")
    if made:
        fail("make_closure evaluated the loss when the closure was made.",
             "call loss_fn() inside closure(): L-BFGS calls the closure again at every trial point.")
    w.grad = torch.full_like(w, 5.0)  # a stale gradient, left by an earlier evaluation
    loss = _call(closure, name="closure")
    if len(made) != 1:
        fail(f"one call of closure() evaluated the loss {len(made)} times, expected once.",
             "call loss_fn() once and reuse its result for backward() and the return value.")
    if w.grad is None:
        fail("after closure() the parameters have no gradient.", "call loss.backward() after evaluating the loss.")
    if torch.allclose(w.grad, torch.full_like(w, 5.0)):
        fail("closure() left the gradients as they were.",
             "call loss.backward(): the optimiser steps along the gradients the closure leaves in .grad.")
    if torch.allclose(w.grad, 2 * w.detach() + 5.0):
        fail("the gradients accumulated: .grad holds this evaluation's gradient plus the previous one.",
             "call optimizer.zero_grad() first: backward() adds to .grad, and L-BFGS evaluates several "
             "times per step.")
    if not torch.allclose(w.grad, 2 * w.detach()):
        fail(f"after closure() the gradient is {w.grad.tolist()}, expected {(2 * w.detach()).tolist()}.",
             "zero the gradients, evaluate loss_fn(), call backward() on it, once each.")
    if not isinstance(loss, Tensor):
        fail(f"closure() returned a {type(loss).__name__}, not the loss tensor.",
             "return the tensor loss_fn() gave, not loss.item(): PyTorch's contract is that the closure "
             "returns the loss, and step(closure) hands it back.")
    if loss is not made[-1]:
        fail("closure() returned a copy of the loss (detached or recomputed), not the loss tensor itself.",
             "return loss_fn()'s tensor as it is (no .detach(), no torch.tensor(...)).")
    target = torch.tensor([3.0, 0.5])
    x = torch.zeros(2, requires_grad=True)
    lbfgs = torch.optim.LBFGS([x], max_iter=20, line_search_fn="strong_wolfe")
    lbfgs.step(make_closure_fn(lbfgs, lambda: ((x - target) ** 2).sum()))
    if not torch.allclose(x.detach(), target, atol=1e-3):
        fail(f"one L-BFGS step with your closure ended at {x.detach().tolist()}, not the minimum {target.tolist()}.",
             "zero the gradients, evaluate, backward, return the loss: in that order.")
    passed("make_closure: zeroes the gradients, evaluates once, backpropagates and returns the loss; "
           "one L-BFGS step with it finds the minimum of a quadratic.")


# --- Lesson 05: why GANs fail, and how to fix them ---

def _toy_critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))


def check_gradient_penalty(penalty_fn: Callable) -> None:
    """Lesson 05: penalty_fn(critic, real, fake, epsilon) = mean (‖∇C(x̂)‖₂ - 1)², x̂ = ε·x + (1-ε)·G(z)."""
    critic = _toy_critic()
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(8, 2, generator=gen), torch.randn(8, 2, generator=gen) + 1
    epsilon = torch.rand(8, 1, generator=gen)
    expected = losses.gradient_penalty(critic, real, fake, epsilon).detach()
    got = _call(penalty_fn, critic, real, fake, epsilon, name="gradient_penalty")
    _fail_unless_one_number(got, f"gradient_penalty should return a single-number tensor, got {got!r}.")
    if not got.requires_grad:
        fail("the penalty carries no gradient back to the critic's weights, so it cannot train the critic.",
             "pass create_graph=True to torch.autograd.grad.")
    value = got.detach()
    if _close(value, expected.detach()):
        _fail_unless_gradient_reaches(got, critic,
                                      "backward() through the penalty leaves the critic's gradients at zero.",
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
    _fail_unless_one_number(got_c, f"critic_loss should return a single-number tensor, got {got_c!r}.")
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
    _fail_unless_one_number(got_g, f"generator_loss should return a single-number tensor, "
                            f"got {got_g!r}.")
    if _close(got_g, -expected_g):
        fail(f"generator loss {got_g.item():.4f} has the wrong sign (expected {expected_g.item():.4f}).",
             "the generator wants the critic to score its fakes high: minimise -mean C(G(z)).")
    if not _close(got_g, expected_g):
        fail(f"generator loss {got_g.item():.4f}, expected {expected_g.item():.4f}.", "-critic_fake.mean().")
    passed(f"WGAN losses: critic {got_c.item():.4f} = mean C(G(z)) - mean C(x), "
           f"generator {got_g.item():.4f} = -mean C(G(z)).")


def check_mode_coverage(coverage_fn: Callable) -> None:
    """Lesson 05: coverage_fn(points, centres, std) -> (modes covered, high-quality share)."""
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
    expected_modes = metrics.modes_covered(points, centres, std)
    expected_hq = metrics.high_quality_share(points, centres, std)
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


# --- Lesson 06: controlling what a GAN makes (label conditioning, the Q head, L_I) ---

def _same(a: Tensor, b: Tensor, tol: float = 1e-5) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=tol, rtol=tol)


def check_label_conditioning(generator_class: type, discriminator_class: type) -> None:
    """Lesson 06: G concatenates [noise, embedding(label)]; D adds the projection embedding(label) . features."""
    sizes = dict(num_classes=10, hidden_dim=16, image_shape=(1, 8, 8))
    torch.manual_seed(0)
    noise, labels = torch.randn(12, 5), torch.arange(12) % 10
    other_labels = (labels + 3) % 10
    for name, cls, ref_cls, kwargs in (
            ("generator", generator_class, models.ConditionalGenerator, dict(latent_dim=5, embed_dim=6, **sizes)),
            ("discriminator", discriminator_class, models.ConditionalDiscriminator, sizes)):
        model = _call(lambda: cls(**kwargs), name=f"{cls.__name__}(...)")
        reference = ref_cls(**kwargs)
        reference.load_state_dict(model.state_dict())
        model.eval(), reference.eval()
        with torch.no_grad():
            if name == "generator":
                args, other = (noise, labels), (noise, other_labels)
                expected_shape = (12, 1, 8, 8)
            else:
                images = torch.rand(12, 1, 8, 8) * 2 - 1
                args, other = (images, labels), (images, other_labels)
                expected_shape = (12, 1)
            out = _call(model, *args, name=f"{cls.__name__}.forward")
            want = reference(*args)
            if not isinstance(out, Tensor) or tuple(out.shape) != expected_shape:
                got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                fail(f"the {name} should return shape {expected_shape} for a batch of 12, got {got}.",
                     "the generator reshapes to (N, C, H, W) with .view(-1, *self.image_shape); "
                     "the discriminator's projection is summed with keepdim=True, giving (N, 1).")
            how = ("look the labels up with self.label_embedding(labels) and concatenate the result "
                   "with the noise: torch.cat([noise, embedding], dim=1)" if name == "generator" else
                   "features = self.body(images); logit = self.out(features) + "
                   "(self.label_embedding(labels) * features).sum(dim=1, keepdim=True)")
            if _same(out, model(*other)):
                fail(f"the {name}'s output does not change when the labels change: it ignores them.", how)
            if not _same(out, want):
                fail(f"the {name} uses the labels, but not the way the layers expect "
                     f"({'order: [noise, embedding]' if name == 'generator' else 'the projection term'}).", how)
    passed("Label conditioning: G concatenates the label's embedding with the noise; D adds the "
           "projection embedding(y) · features to its logit.")


def check_q_head(discriminator_class: type) -> None:
    """Lesson 06: InfoGAN's D returns (real/fake logit, category logits, continuous codes) from one body."""
    kwargs = dict(num_categories=4, num_continuous=3, hidden_dim=16, image_shape=(1, 8, 8))
    torch.manual_seed(0)
    model = _call(lambda: discriminator_class(**kwargs), name=f"{discriminator_class.__name__}(...)")
    reference = models.InfoDiscriminator(**kwargs)
    reference.load_state_dict(model.state_dict())
    model.eval(), reference.eval()
    images = torch.rand(5, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        out = _call(model, images, name=f"{discriminator_class.__name__}.forward")
        want = reference(images)
    if not isinstance(out, tuple) or len(out) != 3:
        fail(f"forward should return a tuple of three tensors (logit, category_logits, continuous), "
             f"got {type(out).__name__}{'' if not isinstance(out, tuple) else f' of length {len(out)}'}.")
    shapes = [tuple(t.shape) if isinstance(t, Tensor) else None for t in out]
    expected = [(5, 1), (5, 4), (5, 3)]
    if shapes != expected:
        hint = "split the (N, K + C) output of self.q_head with q.split([K, C], dim=1)."
        if shapes[1:] == [(5, 3), (5, 4)]:
            hint = "the category logits come first (the first K outputs of the Q head), then the continuous codes."
        fail(f"expected shapes {expected} for 5 images with K=4 categories and C=3 continuous codes, "
             f"got {shapes}.", hint)
    logit, category_logits, continuous = out
    ones = torch.ones(5)
    if (category_logits.min() >= 0 and torch.allclose(category_logits.sum(1), ones, atol=1e-4)) or \
            torch.allclose(category_logits.exp().sum(1), ones, atol=1e-4):
        fail("the category output looks like probabilities (or log-probabilities), not raw logits.",
             "return the raw Q-head outputs; F.cross_entropy applies the softmax itself.")
    if not _same(logit, want[0]):
        fail("the real/fake logit is not self.d_head(features) with features = self.body(images).",
             "both heads read the same features: compute features once, then d_head(features).")
    if not (_same(category_logits, want[1]) and _same(continuous, want[2])):
        fail("the Q outputs differ from q_head(body(images)) split into [K categories, C codes].",
             "Q reads the shared features (not the logit): q = self.q_head(features); "
             "then category_logits, continuous = q.split([self.num_categories, self.num_continuous], dim=1).")
    passed("Q head: one shared body, a real/fake logit (N, 1), category logits (N, K) and "
           "continuous codes (N, C).")


def check_mutual_information_loss(loss_fn: Callable) -> None:
    """Lesson 06: L_I = cross-entropy(category) + continuous_weight * MSE(continuous)."""
    category_logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0], [-2.0, 2.5, 0.0]])
    category = torch.tensor([0, 2, 1, 0])
    continuous_pred = torch.tensor([[0.5, -0.2], [0.9, 0.1], [-0.3, 0.4], [0.0, -0.8]])
    continuous = torch.tensor([[0.4, 0.1], [1.0, -0.5], [-0.9, 0.6], [0.2, -0.7]])
    weight = 0.5
    ce = torch.nn.functional.cross_entropy(category_logits, category)
    mse = ((continuous_pred - continuous) ** 2).mean()
    expected = ce + weight * mse
    got = _call(loss_fn, category_logits, category, continuous_pred, continuous, weight,
                name="mutual_information_loss")
    _fail_unless_one_number(got, f"mutual_information_loss should return a single-number tensor, got {got!r}.")
    if _close(got, expected):
        passed(f"Mutual-information loss: {got.item():.4f} = cross-entropy {ce.item():.4f} "
               f"+ {weight} × MSE {mse.item():.4f}.")
        return
    probs_ce = torch.nn.functional.cross_entropy(category_logits.softmax(1), category)
    if _close(got, probs_ce + weight * mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: a softmax was applied twice.",
             "F.cross_entropy takes raw logits; do not softmax them first.")
    if _close(got, ce + mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: continuous_weight was not used.",
             "multiply the continuous term by continuous_weight.")
    if _close(got, ce) or _close(got, weight * mse):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: one of the two terms is missing.",
             "L_I = cross_entropy(category_logits, category) + continuous_weight * mse(continuous_pred, continuous).")
    if _close(got, ce + weight * ((continuous_pred - continuous) ** 2).sum(1).mean()) or _close(
            got, ce + weight * ((continuous_pred - continuous) ** 2).sum()):
        fail(f"got {got.item():.4f}, expected {expected.item():.4f}: the squared error was summed.",
             "average it over the batch and the codes: F.mse_loss(continuous_pred, continuous).")
    if _close(got, -expected):
        fail(f"got {got.item():.4f}: the sign is flipped.",
             "this is a loss to minimise; maximising mutual information means minimising it.")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f}.",
         "F.cross_entropy(category_logits, category) + continuous_weight * F.mse_loss(continuous_pred, continuous).")


# --- Lesson 07: VAE versus GAN ---------------------------------------------------------------

def check_reparameterize(reparameterize: Callable) -> None:
    """Lesson 07: z = mu + σ·ε, σ = exp(½ logvar), random, and differentiable in mu and logvar."""
    torch.manual_seed(0)
    mu = torch.tensor([[0.0, 3.0, -2.0]]).repeat(20_000, 1).requires_grad_(True)      # (20000, 3)
    logvar = torch.log(torch.tensor([[1.0, 4.0, 0.25]])).repeat(20_000, 1).requires_grad_(True)
    z = _call(reparameterize, mu, logvar, name="reparameterize")
    if not isinstance(z, Tensor) or tuple(z.shape) != tuple(mu.shape):
        fail(f"reparameterize(mu, logvar) with mu of shape {tuple(mu.shape)} should return a tensor of "
             f"that shape, got {tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__}.")
    mean, std = z.detach().mean(0), z.detach().std(0)
    if std.max() < 1e-6:
        fail("every sample equals mu: no noise was added.", "z = mu + σ * ε with ε = torch.randn_like(mu).")
    if not torch.allclose(mean, mu[0].detach(), atol=0.06):
        fail(f"the samples' mean is {mean.tolist()}, expected mu = {mu[0].tolist()}.",
             "add the noise to mu: z = mu + σ * ε.")
    expected_std = torch.tensor([1.0, 2.0, 0.5])
    if not torch.allclose(std, expected_std, rtol=0.05):
        hint = "σ = torch.exp(0.5 * logvar): logvar is log σ², so halve it before exponentiating."
        if torch.allclose(std, expected_std ** 2, rtol=0.05):
            hint = "you used exp(logvar) = σ² as the standard deviation; " + hint
        elif torch.allclose(std, logvar[0].detach().abs(), rtol=0.05):
            hint = "you used logvar itself as the standard deviation; " + hint
        fail(f"the samples' standard deviations are {[round(v, 2) for v in std.tolist()]}, "
             f"expected σ = {expected_std.tolist()} for σ² = {[1.0, 4.0, 0.25]}.", hint)
    if not z.requires_grad:
        fail("z carries no gradient.", "build z from mu and logvar with tensor arithmetic (no .detach(), no torch.no_grad()).")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None or mu.grad.abs().sum() == 0 or logvar.grad.abs().sum() == 0:
        fail("no gradient reaches mu or logvar, so the encoder could not learn through the sample.",
             "torch.normal(mu, std) is not differentiable; write mu + std * torch.randn_like(std).")
    passed("reparameterize: the right mean and σ, and gradients reach both mu and logvar.")


def check_gaussian_kl(gaussian_kl: Callable) -> None:
    """Lesson 07: the closed-form KL(N(mu, σ²) ‖ N(0, I)), one value per sample, against Monte Carlo."""
    torch.manual_seed(0)
    n, d = 4, 3
    mu, logvar = torch.randn(n, d), torch.randn(n, d) * 0.5
    expected = vae.gaussian_kl(mu, logvar)                                       # (n,)
    got = _call(gaussian_kl, mu, logvar, name="gaussian_kl")
    if not isinstance(got, Tensor) or tuple(got.shape) != (n,):
        fail(f"gaussian_kl should return one value per sample, shape ({n},), got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.",
             "sum over the latent dimensions only: .sum(dim=1).")
    # Monte Carlo: KL = E_q[log q(z) - log p(z)], with z drawn from q (200,000 draws per sample)
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, n, d)                                    # (S, n, d)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)              # (S, n)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)                                        # (n,)
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        passed(f"gaussian_kl: {[round(v, 3) for v in got.tolist()]}; a Monte-Carlo estimate from "
               f"200,000 samples says {[round(v, 3) for v in monte_carlo.tolist()]}.")
        return
    if torch.allclose(got, 2 * expected, rtol=1e-4):
        hint = "it is twice too big: the ½ in front is missing."
    elif torch.allclose(got, -expected, rtol=1e-4):
        hint = "the sign is flipped: a KL divergence is never negative; keep the minus in -½ Σ(...)."
    elif torch.allclose(got, expected / d, rtol=1e-4):
        hint = f"it is {d} times too small: you averaged over the latent dimensions; sum them."
    else:
        hint = "-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1); logvar is log σ², so σ² = logvar.exp()."
    fail(f"got {[round(v, 4) for v in got.tolist()]}, expected {[round(v, 4) for v in expected.tolist()]} "
         f"(Monte Carlo: {[round(v, 3) for v in monte_carlo.tolist()]}).", hint)


def check_elbo_loss(elbo_loss: Callable) -> None:
    """Lesson 07: -ELBO = reconstruction (BCE summed over pixels) + β·KL (summed over dims), batch mean."""
    torch.manual_seed(0)
    n, d, beta = 5, 4, 0.5
    logits, images = torch.randn(n, 1, 6, 6), torch.rand(n, 1, 6, 6) * 2 - 1
    mu, logvar = torch.randn(n, d), torch.randn(n, d) * 0.5
    expected, reconstruction, kl = vae.elbo_loss(logits, images, mu, logvar, beta)
    got = _call(elbo_loss, logits, images, mu, logvar, beta, name="elbo_loss")
    got_loss = got[0] if isinstance(got, (tuple, list)) else got
    _fail_unless_one_number(got_loss, "elbo_loss should return (loss, reconstruction, kl) with a single-number "
                                      f"loss, got {got!r}.")
    if _close(got_loss, expected):
        passed(f"-ELBO: {expected.item():.3f} = reconstruction {reconstruction.item():.3f} "
               f"+ β {beta} × KL {kl.item():.3f} (per image, averaged over the batch).")
        return
    pixels = images[0].numel()
    known = {
        f"the reconstruction term was averaged over the {pixels} pixels (a mean BCE) while the KL is "
        "summed over dimensions, so the KL dominates and the pictures blur: sum the BCE over a "
        "picture's pixels, then average over the batch.": reconstruction / pixels + beta * kl,
        f"the KL was averaged over the {d} latent dimensions: sum it over them (gaussian_kl does).":
            reconstruction + beta * kl / d,
        "both terms were summed over the batch too: average over the images.": n * expected,
        "β is missing: loss = reconstruction + beta * kl.": reconstruction + kl,
        "the sign is flipped: the ELBO is maximised, so the loss is -ELBO = reconstruction + β·KL.": -expected,
        "the KL term is subtracted: the loss is reconstruction + β·KL.": reconstruction - beta * kl,
    }
    bce_on_raw = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, images.clamp(0, 1), reduction="none").flatten(1).sum(1).mean()
    known["the targets are the images in [-1, 1]: map them to brightness in [0, 1] with (images + 1) / 2."] = \
        bce_on_raw + beta * kl
    for hint, value in known.items():
        if _close(got_loss, value, tol=1e-3):
            fail(f"got {got_loss.item():.3f}, expected {expected.item():.3f}: {hint}")
    fail(f"got {got_loss.item():.3f}, expected {expected.item():.3f}.",
         "F.binary_cross_entropy_with_logits(logits, (images + 1) / 2, reduction='none') summed over "
         "pixels, mean over images, plus beta * gaussian_kl(mu, logvar).mean().")


def check_vae_samples(coverage: int, rarest: float, vae_fd: float, gan_fd: float) -> None:
    """Lesson 07: the VAE's samples cover all ten digits (each at least 5%); both distances are finite."""
    if not (math.isfinite(vae_fd) and math.isfinite(gan_fd)):
        fail(f"a Fréchet distance is not finite (VAE {vae_fd}, GAN {gan_fd}): a training run diverged.")
    if coverage < 10:
        fail(f"only {coverage} of 10 digits hold at least 5% of the VAE's samples (rarest {rarest:.1%}).",
             "check that the KL is summed over latent dimensions and the reconstruction over pixels "
             "(both per image), and that samples come from z ~ N(0, I).")
    passed(f"VAE samples cover all 10 digits (rarest {rarest:.1%}); Fréchet distance VAE {vae_fd:.1f}, "
           f"GAN {gan_fd:.1f}.")


# --- Lesson 08: image-to-image translation ---------------------------------------------------

class _Scale(nn.Module):
    """A toy generator for the cycle check: x -> weight·x + bias, with learnable weight."""

    def __init__(self, weight: float, bias: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight))
        self.bias = bias

    def forward(self, x: Tensor) -> Tensor:
        return self.weight * x + self.bias


def check_cycle_loss(cycle_loss: Callable) -> None:
    """Lesson 08: L1(G_BA(G_AB(a)), a) + L1(G_AB(G_BA(b)), b), both directions, mean over pixels."""
    torch.manual_seed(0)
    real_a, real_b = torch.rand(4, 1, 5, 5) * 2 - 1, torch.rand(4, 1, 5, 5) * 2 - 1
    g_ab, g_ba = _Scale(0.5, 0.1), _Scale(1.5, -0.2)
    l1 = nn.functional.l1_loss
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    forward, backward = l1(g_ba(fake_b), real_a), l1(g_ab(fake_a), real_b)
    expected = forward + backward
    expected.backward()
    expected_grads = (g_ab.weight.grad.clone(), g_ba.weight.grad.clone())
    g_ab.weight.grad = g_ba.weight.grad = None
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    got = _call(cycle_loss, real_a, real_b, fake_a, fake_b, g_ab, g_ba, name="cycle_loss")
    if not isinstance(got, Tensor) or got.numel() != 1:
        fail(f"cycle_loss should return a single-number tensor, got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.")
    if _close(got, expected):
        if not got.requires_grad:
            fail("the value is right but it carries no gradient.",
                 "do not compute it under torch.no_grad() or .detach() it: the cycle loss trains both generators.")
        got.backward()
        grads = tuple(torch.zeros(()) if g.weight.grad is None else g.weight.grad for g in (g_ab, g_ba))
        if not all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(grads, expected_grads)):
            fail("the value is right but the gradients are not: part of the round trip is cut off.",
                 "do not detach the fakes: in A → B → A the gradient must reach G_AB through fake_b, "
                 "which is how the cycle loss teaches G_AB to keep what G_BA needs.")
        passed(f"cycle loss {expected.item():.4f} = A→B→A {forward.item():.4f} + B→A→B {backward.item():.4f}, "
               "and its gradient reaches both generators along both round trips.")
        return
    with torch.no_grad():
        mse = nn.functional.mse_loss
        known = {
            "only A→B→A is there: add the B→A→B cycle, L1(G_AB(fake_a), real_b).": forward,
            "only B→A→B is there: add the A→B→A cycle, L1(G_BA(fake_b), real_a).": backward,
            "that is a squared error: CycleGAN's cycle loss is the L1 distance (mean absolute difference), "
            "which blurs less.": mse(g_ba(fake_b), real_a) + mse(g_ab(fake_a), real_b),
            "each reconstruction must go back through the other generator: A → G_AB → G_BA → A, so "
            "G_BA(fake_b) is compared with real_a.": l1(g_ab(fake_b), real_a) + l1(g_ba(fake_a), real_b),
            "the reconstruction of a is compared with b (or the fakes with the wrong real images): "
            "G_BA(G_AB(a)) should give back a itself.": l1(g_ba(fake_b), real_b) + l1(g_ab(fake_a), real_a),
            "that compares each fake with its own input (an identity loss), not the round trip: "
            "send the fake back through the other generator first.": l1(fake_b, real_a) + l1(fake_a, real_b),
            "the two cycles are averaged: CycleGAN adds them (λ multiplies the sum).": expected / 2,
        }
    for hint, value in known.items():
        if _close(got, value, tol=1e-4):
            fail(f"got {got.item():.4f}, expected {expected.item():.4f}: {hint}")
    fail(f"got {got.item():.4f}, expected {expected.item():.4f}.",
         "F.l1_loss(g_ba(fake_b), real_a) + F.l1_loss(g_ab(fake_a), real_b).")


def check_unet_forward(unet_forward: Callable) -> None:
    """Lesson 08: the U-Net's forward pass, each decoder output joined to its mirror encoder output."""
    torch.manual_seed(0)
    unet = image_to_image.UNet(in_channels=1, out_channels=3, features=4, depth=3).eval()
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        expected = unet(x)
        try:
            got = _call(unet_forward, unet, x, name="unet_forward")
        except RuntimeError as error:
            message = str(error).splitlines()[0]
            if "channels" in message or "size" in message.lower() or "Sizes" in message:
                fail(f"the layers refused their input: {message[:160]}",
                     "each decoder layer after the first expects its upsampled output and the encoder output "
                     "of the same size *concatenated on the channel axis* (torch.cat([x, skip], dim=1)), "
                     "the deepest skip first; the bottleneck (the last encoder output) has no mirror.")
            raise
    if not isinstance(got, Tensor) or got.shape != expected.shape:
        fail(f"unet_forward should return {tuple(expected.shape)}, got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.",
             "run every layer of unet.downs, then every layer of unet.ups, joining a skip after each "
             "but the last.")
    if torch.allclose(got, expected, atol=1e-5):
        passed(f"unet_forward matches UNet: {tuple(x.shape)} -> {tuple(got.shape)}, with "
               f"{unet.depth - 1} skip connections.")
        return
    fail("the output has the right shape but different values.",
         "join each upsampled output to the encoder output of the same size in the order "
         "torch.cat([x, skip], dim=1) (upsampled first, as UNet does), the deepest skip first.")


def check_patch_output_size(patch_output_size: Callable) -> None:
    """Lesson 08: a PatchGAN's output side from the input side and its (kernel, stride, padding) layers."""
    cases = [(256, 6, 64, 3), (64, 4, 32, 3), (32, 4, 32, 1), (28, 1, 32, 1), (70, 6, 8, 3)]
    for size, channels, features, layers in cases:
        model = image_to_image.PatchGAN(channels, features, layers)
        specs = model.conv_specs()
        with torch.no_grad():
            expected = model(torch.zeros(1, channels, size, size)).shape[-1]
        got = _call(patch_output_size, size, specs, name="patch_output_size")
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if got == expected:
            continue
        wrong = {}
        s = size
        for k, st, p in specs:
            s = s // st
        wrong["you divided by the stride only: the kernel and the padding change the size too."] = s
        s = size
        for k, st, p in specs:
            s = (s + 2 * p - k) // st
        wrong["the + 1 is missing: a kernel that fits exactly once gives one output, (k - k) // s + 1 = 1."] = s
        s = size
        for k, st, p in specs:
            s = (s - k) // st + 1
        wrong["the padding is missing: each side of the input gets p extra pixels, so add 2p."] = s
        s = float(size)
        for k, st, p in specs:
            s = (s + 2 * p - k) / st + 1
        wrong["that is not a whole number of positions: round down, (size + 2p - k) // stride + 1."] = s
        hint = next((h for h, v in wrong.items() if got == v), "out = (size + 2·padding − kernel) // stride + 1, "
                                                                 "once per layer, in order.")
        fail(f"for a {size}×{size} input and layers {specs} you gave {got!r}, the PatchGAN outputs "
             f"{expected}×{expected}.", hint)
    passed(f"patch_output_size matches the PatchGAN on {len(cases)} sizes (256 px, pix2pix's D: 30×30 patches).")
