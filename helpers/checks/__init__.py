"""Check cells: run after each exercise, they print a pass line or explain what is wrong.

Every check raises CheckFailed (an AssertionError) on a wrong answer, so a broken solution fails
CI, with a message that says what was expected, what came, and a hint. The checks of lesson NN
live in `helpers.checks.lessonNN`; this module holds what they share.
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


def call_exercise(fn: Callable, *args, name: str):
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


def is_close(a: float, b: float, tol: float = 1e-4) -> bool:
    a, b = (x.detach() if isinstance(x, Tensor) else x for x in (a, b))
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=tol)


def fail_unless_one_number(value: object, message: str) -> None:
    """Fail with `message` unless `value` is a tensor holding exactly one number."""
    if not isinstance(value, Tensor) or value.numel() != 1:
        fail(message)


def fail_unless_gradient_reaches(loss: Tensor, module: nn.Module, what: str, hint: str) -> None:
    """Backpropagate `loss` from fresh gradients; fail with `what` and `hint` if every
    parameter of `module` is left without a gradient (or with an all-zero one)."""
    module.zero_grad()
    loss.backward()
    if all(p.grad is None or p.grad.abs().sum() == 0 for p in module.parameters()):
        fail(what, hint)


def check_probabilities(out: Tensor, name: str) -> None:
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
