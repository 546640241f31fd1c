"""A lesson's parameters checked once, right after its parameters cell, with one clear message.

    validate(STEPS=(STEPS, int, 1, None),            # an int in [1, ∞)
             LR=(LR, float, 1e-6, 1.0),              # a finite number in [1e-6, 1]
             EPOCHS=(EPOCHS, int | None, 1, None),   # None, or an int in [1, ∞)
             IMAGE_SIZE=(IMAGE_SIZE, (None, 32, 64)),   # one of these values
             FACES_FOLDER=(FACES_FOLDER, str))       # any string

A wrong value stops the notebook there, naming the parameter, the value and what is allowed,
instead of failing cells later with an error that points somewhere else.
"""
from __future__ import annotations

import math
import numbers
import types


class ParameterError(ValueError):
    """One or more lesson parameters are outside what the lesson can run with."""


def _bound(value: float | None, infinite: str) -> str:
    return infinite if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _problem(name: str, spec: tuple) -> str | None:
    """What is wrong with one (value, kind, ...) spec, or None when the value is allowed."""
    if not isinstance(spec, tuple) or len(spec) not in (2, 4):
        raise TypeError(f"{name}: expected (value, int|float, low, high), (value, str) or "
                        f"(value, (allowed, values)), got {spec!r}")
    value, kind = spec[0], spec[1]
    if isinstance(kind, tuple):  # a choice among listed values
        # `value in kind` would accept True for 1 and 1.0 for 1: compare types too.
        if any(value == option and type(value) is type(option) for option in kind):
            return None
        return f"{name} = {value!r} is not allowed: {name} must be one of {', '.join(map(repr, kind))}"
    if isinstance(kind, types.UnionType):  # int | None: None, or a number in range
        kinds = [k for k in kind.__args__ if k is not type(None)]
        if len(kinds) != 1 or kinds[0] not in (int, float) or len(kind.__args__) != 2:
            raise TypeError(f"{name}: a union kind must be int | None or float | None, got {kind!r}")
        if value is None:
            return None
        problem = _problem(name, (value, kinds[0], *spec[2:]))
        return problem and problem.replace(" must be ", " must be None or ", 1)
    if kind is str:
        return None if isinstance(value, str) else f"{name} = {value!r} is not allowed: {name} must be a str"
    if kind not in (int, float) or len(spec) != 4:
        raise TypeError(f"{name}: the kind must be int, float, str or a tuple of allowed values, got {kind!r}")
    low, high = spec[2], spec[3]
    interval = f"[{_bound(low, '-∞')}, {_bound(high, '∞')}]".replace("[-∞", "(-∞").replace("∞]", "∞)")
    what = f"an int in {interval}" if kind is int else f"a finite number in {interval}"
    is_number = isinstance(value, numbers.Integral if kind is int else numbers.Real) and not isinstance(value, bool)
    if not is_number or (kind is float and not math.isfinite(value)):
        got = f"a {type(value).__name__}" if not is_number else "not finite"
        return f"{name} = {value!r} is not allowed: {name} must be {what} ({got})"
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{name} = {value!r} is not allowed: {name} must be {what}"
    return None


def validate(**specs: tuple) -> None:
    """Check NAME=(value, kind, low, high) | (value, str) | (value, (choices)); ParameterError names each bad one.

    kind is int (bool refused), float (any finite real number), or int | None / float | None;
    low and high are inclusive bounds, None for no bound.
    """
    problems = [p for name, spec in specs.items() if (p := _problem(name, spec)) is not None]
    if problems:
        raise ParameterError("Change the parameters cell and run again:\n  " + "\n  ".join(problems))
