"""Check cells: run after each exercise, they print a pass line or raise CheckFailed saying what is wrong.

The checks of lesson NN live in `helpers.checks.lessonNN`; this module holds what they share. Help comes in
tiers: a failure names the mistake or points at the idea, `hint(name)` says more, `show_solution(name)` gives
the answer.
"""
from __future__ import annotations

import json
import math
import pkgutil
import re
import sys
from contextlib import ExitStack
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Callable
from unittest import mock

import torch
from torch import Tensor


class CheckFailed(AssertionError):
    """A check cell found a problem; the message says what and how to fix it."""


SOLUTIONS_URL = "https://github.com/gan-course/gan-course/blob/main/solutions/"
NOTEBOOKS = {"01": "01_harmonic_gan", "02": "02_mnist_gan", "03": "03_dcgan_celeba", "04": "04_style_transfer",
             "05": "05_gan_failures", "06": "06_controlling_gans", "07": "07_vae_vs_gan", "08": "08_image_to_image",
             "09": "09_style_based_gan"}
EXERCISES = {  # check_<exercise> -> (lesson, what the exercise's cell defines)
    "optimal_discriminator": ("01", "optimal_discriminator"), "d_step": ("01", "d_step"), "g_step": ("01", "g_step"),
    "image_discriminator": ("02", "make_discriminator"), "discriminator_loss": ("02", "discriminator_loss"),
    "least_squares": ("02", "least_squares"), "ema_update": ("02", "ema_update"), "g_block": ("03", "g_block"),
    "d_block": ("03", "d_block"), "weights_init": ("03", "init_weights"), "generate": ("03", "generate"),
    "gram_matrix": ("04", "gram_matrix"), "tv_loss": ("04", "tv_loss"), "lbfgs_closure": ("04", "make_closure"),
    "mode_coverage": ("05", "mode_coverage"), "wgan_losses": ("05", "critic_loss"),
    "gradient_penalty": ("05", "gradient_penalty"), "label_conditioning": ("06", "ConditionalGenerator"),
    "q_head": ("06", "InfoDiscriminator"), "mutual_information_loss": ("06", "mutual_information_loss"),
    "reparameterize": ("07", "reparameterize"), "gaussian_kl": ("07", "gaussian_kl"), "elbo_loss": ("07", "elbo_loss"),
    "unet_forward": ("08", "unet_forward"), "patch_output_size": ("08", "patch_output_size"),
    "cycle_loss": ("08", "cycle_loss"), "modulated_conv": ("09", "modulated_conv"),
    "mix_styles": ("09", "mix_styles"), "truncation": ("09", "truncate"),
}
FINISHED = {  # finished versions an answer must not call, besides its own copy in helpers.taught (a class's forward)
    "d_step": ("helpers.training.d_step",), "g_step": ("helpers.training.g_step",),
    "least_squares": ("torch.nn.functional.mse_loss",),
    "label_conditioning": ("helpers.taught.lesson06.ConditionalDiscriminator.forward",),
}


def _exercise_running() -> str | None:
    """The exercise whose check (a check_<exercise> function further up the call stack) is running, if any."""
    frame = sys._getframe(1)
    while frame and not (frame.f_code.co_name.startswith("check_") and frame.f_code.co_name[6:] in EXERCISES):
        frame = frame.f_back
    return frame.f_code.co_name[6:] if frame else None


def hint(name: str) -> None:
    """Print the stronger hint of exercise `name`: what its check expects (the check's docstring)."""
    check = getattr(import_module(f"helpers.checks.lesson{EXERCISES[name][0]}"), f"check_{name}")
    print(f"💡 {name}: " + re.sub(r"^Lesson \d+: ", "", check.__doc__))


def show_solution(name: str) -> None:
    """Print exercise `name`'s solution, read from its solution notebook, or say where it is online."""
    lesson, defines = EXERCISES[name]
    path = Path(__file__).resolve().parents[2] / "solutions" / f"{NOTEBOOKS[lesson]}.ipynb"
    if not path.exists():
        print(f"The solution of {name} is in the cell that defines {defines}: {SOLUTIONS_URL}{path.name}")
        return
    cell = next(src for src in ("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
                if re.search(rf"^\s*(def|class) {defines}\b", src, re.M) and "### BEGIN SOLUTION" in src)
    regions = re.findall(r"### BEGIN SOLUTION\n(.*?)\s*### END SOLUTION", cell, re.S)
    print(f"Solution of {name} (solutions/{path.name}, {defines}):\n" + "\n".join(regions))


def fail(what: str, hint: str = "") -> None:
    name = _exercise_running()
    raise CheckFailed(f"❌ {what}" + (f"\n   Hint: {hint}" if hint else "") + (
        f'\n   Stuck? helpers.checks.hint("{name}") says more; helpers.checks.show_solution("{name}") gives the answer.'
        if name else ""))


def passed(what: str) -> None:
    print(f"✅ {what}")


def call_exercise(fn: Callable, *args, name: str):
    """Run the answer fn(*args), with the finished versions of the running exercise patched to fail."""
    exercise = _exercise_running()
    lesson, defines = EXERCISES.get(exercise, ("", ""))
    taught = f"helpers.taught.lesson{lesson}"
    saved = getattr(import_module(taught), defines, None) if find_spec(taught) else None
    own = () if saved is None else (f"{taught}.{defines}" + (".forward" if isinstance(saved, type) else ""),)
    with ExitStack() as patches:
        for path in FINISHED.get(exercise, ()) + own:
            original = pkgutil.resolve_name(path)
            if original is not fn and getattr(type(fn), path.rpartition(".")[2], None) is not original:
                message = f"{name} calls {path}, the finished version, instead of computing it."
                patches.enter_context(mock.patch(path, side_effect=lambda *_, message=message, **__: fail(
                    message, "the exercise is to write those steps yourself.")))
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


def is_close(a: object, b: object, tol: float = 1e-4) -> bool:
    """Whether numbers or tensors a and b hold the same values, to `tol`; False for what is not numbers."""
    try:
        a, b = (torch.as_tensor(x.detach() if isinstance(x, Tensor) else x).double().cpu() for x in (a, b))
    except (TypeError, ValueError, RuntimeError):
        return False
    if a.numel() == 1 == b.numel():
        return math.isclose(a.item(), b.item(), rel_tol=tol, abs_tol=tol)
    return a.shape == b.shape and torch.allclose(a, b, rtol=tol, atol=tol)


def expect(got: object, expected: object, mistakes: dict, what: str, hint: str = "", tol: float = 1e-4) -> None:
    """Return if `got` is close to `expected` (or to one of a list of right answers); else fail with the first of
    `mistakes` (message -> the value that mistake gives, or a list of them) that `got` matches, or with `what`."""
    if any(is_close(got, right, tol) for right in (expected if isinstance(expected, list) else [expected])):
        return
    for message, values in mistakes.items():
        if any(is_close(got, value, tol) for value in (values if isinstance(values, list) else [values])):
            fail(message)
    fail(what, hint)


def fail_unless_shape(value: object, shape: tuple[int, ...], what: str, hint: str = "") -> None:
    """Fail with `what` (and what came) unless `value` is a tensor of `shape`."""
    if not isinstance(value, Tensor) or tuple(value.shape) != tuple(shape):
        fail(f"{what}, got {tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}.", hint)


def fail_unless_one_number(value: object, name: str) -> None:
    if not isinstance(value, Tensor) or value.numel() != 1:
        fail(f"{name}: expected a one-number tensor, got {value!r}.")
