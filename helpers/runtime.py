"""Where a lesson runs: the device, random seeds, smoke mode, its checked parameters, where results and data go."""
from __future__ import annotations

import importlib.metadata
import json
import math
import numbers
import os
import random
import sys
import types
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

RUNS_ENV = "GAN_COURSE_RUNS"
REPORTED_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "scikit-image", "scikit-learn",
                     "mlxtend")


class ParameterError(ValueError):
    """One or more lesson parameters are outside what the lesson can run with."""


@dataclass(frozen=True)
class Runtime:
    """Where the lessons run, decided once: the device, mixed precision and memory layout."""

    device: torch.device
    name: str                      # e.g. "Tesla T4", "Apple GPU (MPS)", "CPU, 2 threads"
    amp_dtype: torch.dtype | None  # float16 autocast on CUDA; None (full float32) elsewhere
    channels_last: bool            # conv layers in NHWC, the layout tensor cores read fastest

    @property
    def amp(self) -> bool:
        """True when mixed precision is on (a GradScaler is then needed for float16)."""
        return self.amp_dtype is not None

    def autocast(self) -> AbstractContextManager:
        """torch.autocast with this dtype; with AMP off a no-op (torch 2.4 rejects a disabled autocast on "mps")."""
        return nullcontext() if self.amp_dtype is None else torch.autocast(self.device.type, dtype=self.amp_dtype)


def for_device(device: torch.device | str) -> Runtime:
    """The precision and layout the course uses on `device`: float16 AMP and channels-last on CUDA only."""
    device = torch.device(device)
    if device.type == "cuda":
        return Runtime(device, torch.cuda.get_device_name(device), torch.float16, True)
    if device.type == "mps":
        return Runtime(device, "Apple GPU (MPS)", None, False)
    return Runtime(device, f"{device.type.upper()}, {torch.get_num_threads()} threads", None, False)


_CHOSEN: Runtime | None = None


def choose(verbose: bool = True) -> Runtime:
    """The device and precision, picked once per process (CUDA, then Apple MPS, then CPU) and printed once."""
    global _CHOSEN
    if _CHOSEN is not None:
        return _CHOSEN
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True  # fixed shapes each step: let cuDNN pick its fastest kernels
        _CHOSEN = for_device("cuda")
    else:
        _CHOSEN = for_device("mps" if torch.backends.mps.is_available() else "cpu")
    if verbose:
        amp = f"mixed precision {str(_CHOSEN.amp_dtype).removeprefix('torch.')}" if _CHOSEN.amp else "float32"
        print(f"Using device: {_CHOSEN.device} ({_CHOSEN.name}; {amp})")
        if _CHOSEN.device.type == "cpu" and "google.colab" in sys.modules:
            print("  No GPU in this Colab runtime: the lessons carry on on the CPU at a smaller size. For "
                  "the full-size lessons choose Runtime > Change runtime type > T4 GPU, then Runtime > Run all.")
    return _CHOSEN


def device() -> torch.device:
    """The chosen device (see choose())."""
    return choose().device


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA's OutOfMemoryError and the RuntimeError saying "out of memory" that MPS and the CPU raise."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error).lower())


def release_memory(device: torch.device | str) -> None:
    """Hand the memory PyTorch's allocator caches on `device` back (after an out-of-memory error)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def report_setup(before: dict[str, str] | None = None) -> list[str]:
    """Print the versions in use and the device; return (and print, advising a restart) the packages whose
    version differs from `before`, {name: version} taken before `pip install`."""
    importlib.invalidate_caches()
    after = {d.metadata["Name"].lower(): d.version for d in importlib.metadata.distributions() if d.metadata["Name"]}
    before = {name.lower(): version for name, version in (before or {}).items()}
    print(f"Python {sys.version.split()[0]}; " + ", ".join(f"{name} {after.get(name, 'not installed')}"
                                                       for name in REPORTED_PACKAGES))
    changed = sorted(name for name in before if name in after and before[name] != after[name])
    if changed:
        print("Installing the course changed " + ", ".join(f"{n} {before[n]} -> {after[n]}" for n in changed)
              + ". Restart the runtime (Runtime > Restart session), then run the notebook again "
                "(this cell will then change nothing).")
    choose(verbose=True)
    return changed


def _check_seed(seed, what: str) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be {what}, got {type(seed).__name__} {seed!r}")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    _check_seed(seed, "an int")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def smoke_mode() -> bool:
    """True when GAN_COURSE_SMOKE=1: lessons shrink themselves to run in seconds (CI)."""
    return os.environ.get("GAN_COURSE_SMOKE", "0").strip().lower() in {"1", "true", "yes"}


def _base(env: str, name: str) -> Path:
    """$env if set, else <name> in the course checkout we run in, else in the working folder (Colab)."""
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    here = Path.cwd().resolve()
    root = next((f for f in (here, *here.parents) if (f / "helpers").is_dir() and (f / "solutions").is_dir()), here)
    return root / name


def run_dir(lesson: str) -> Path:
    """runs/<lesson>/, made if missing and checked writable: where a lesson writes its results."""
    if not lesson or "/" in lesson or "\\" in lesson:
        raise ValueError(f"lesson must be a folder name like '01_harmonic_gan', got {lesson!r}")
    base = _base(RUNS_ENV, "runs")
    where = f"{RUNS_ENV}={os.environ[RUNS_ENV]!r}" if os.environ.get(RUNS_ENV) else "the runs folder"
    if base.exists() and not base.is_dir():
        raise NotADirectoryError(f"{where} points at {base}, which is a file: results need a folder. "
                                 f"Set {RUNS_ENV} to a folder (or unset it to use ./runs).")
    path = base / lesson
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / ".writable").write_bytes(b"")
        (path / ".writable").unlink()
    except OSError as error:
        raise PermissionError(f"Cannot write results to {path} ({where}): {error.strerror or error}. "
                              f"Set {RUNS_ENV} to a folder you can write to, then run again.") from error
    return path


def data_dir() -> Path:
    """data/ (made if missing): where downloads and caches go. GAN_COURSE_DATA overrides."""
    path = _base("GAN_COURSE_DATA", "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_summary(lesson: str, headline: str, seed: int, **metrics: float) -> Path:
    """Write runs/<lesson>/summary.json: the headline `make run` prints, the lesson's SEED and its metrics."""
    _check_seed(seed, "the lesson's SEED, an int")
    path = run_dir(lesson) / "summary.json"
    clean = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v)
             for k, v in metrics.items()}
    path.write_text(json.dumps({"headline": headline, "smoke": smoke_mode(), "seed": int(seed), **clean},
                               indent=2))
    return path


def read_summary(path: str | Path) -> dict:
    """A lesson's summary.json as a dict; ValueError naming the file when it is not a JSON object."""
    path = Path(path)
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a readable summary.json ({error}); "
                         "run the lesson again to rewrite it") from error
    if not isinstance(summary, dict):
        raise ValueError(f"{path} holds a JSON {type(summary).__name__}, not the object a lesson writes; "
                         "run the lesson again to rewrite it")
    return summary


def _bound(value: float | None, infinite: str) -> str:
    return infinite if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _problem(name: str, value, rule) -> str | None:
    """What is wrong with `value` under a start() rule, or None when it is allowed."""
    bad = f"{name} = {value!r} is not allowed: {name} must be"
    if rule is str:
        return None if isinstance(value, str) else f"{bad} a str"
    if not isinstance(rule, tuple) or not rule:
        raise TypeError(f"{name}: a rule is str, (int|float, low, high) or a tuple of allowed values, got {rule!r}")
    kind = rule[0]
    if not isinstance(kind, (type, types.UnionType)):  # a choice; `in` would take True for 1 and 1.0 for 1
        if any(value == option and type(value) is type(option) for option in rule):
            return None
        return f"{bad} one of {', '.join(map(repr, rule))}"
    optional = isinstance(kind, types.UnionType)  # int | None: None, or a number in range
    if optional:
        kinds = [k for k in kind.__args__ if k is not type(None)]
        kind = kinds[0] if len(kinds) == 1 and len(kind.__args__) == 2 else kind
        if value is None:
            return None
    if kind not in (int, float) or len(rule) != 3:
        raise TypeError(f"{name}: the kind must be int, float, int | None or float | None, with low and high, "
                        f"got {rule!r}")
    low, high = rule[1], rule[2]
    interval = f"[{_bound(low, '-∞')}, {_bound(high, '∞')}]".replace("[-∞", "(-∞").replace("∞]", "∞)")
    what = ("None or " if optional else "") + (f"an int in {interval}" if kind is int
                                               else f"a finite number in {interval}")
    is_number = isinstance(value, numbers.Integral if kind is int else numbers.Real) and not isinstance(value, bool)
    if not is_number or (kind is float and not math.isfinite(value)):
        return f"{bad} {what} ({'not finite' if is_number else 'a ' + type(value).__name__})"
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{bad} {what}"
    return None


def start(lesson: str, namespace: dict, rules: dict, smoke: dict | None = None) -> Path:
    """The one call after a lesson's parameters cell -> runs/<lesson>/. ParameterError names each parameter that
    breaks its rule: str, (kind, low, high) for int, float or int | None, bounds inclusive (None: unbounded), or a
    tuple of allowed values. Smoke mode shrinks the numbers named in `smoke`, saying so; SEED seeds everything."""
    missing = [name for name in (*rules, *(smoke or {})) if name not in namespace]
    if missing:
        raise NameError(f"the parameters cell defines no {', '.join(missing)} (start() was asked to check it)")
    problems = [p for name, rule in rules.items() if (p := _problem(name, namespace[name], rule)) is not None]
    if problems:
        raise ParameterError("Change the parameters cell and run again:\n  " + "\n  ".join(problems))
    if smoke and smoke_mode():
        changed = []
        for name, small in smoke.items():
            value = namespace[name]
            new = small if value is None or not isinstance(small, (int, float)) else min(value, small)
            if new != value:
                namespace[name] = new
                changed.append(f"{name} {value} -> {new}")
        print("Smoke mode (GAN_COURSE_SMOKE=1): " + (", ".join(changed) or "nothing to shrink") + ".")
    if "SEED" in namespace:
        seed_everything(namespace["SEED"])
    return run_dir(lesson)
