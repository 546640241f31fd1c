"""Where a lesson runs: the device, random seeds, smoke mode, and where results and data go."""
from __future__ import annotations

import importlib.metadata
import json
import os
import random
import sys
import types
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers.params import validate

SMOKE_ENV = "GAN_COURSE_SMOKE"
RUNS_ENV = "GAN_COURSE_RUNS"
DATA_ENV = "GAN_COURSE_DATA"


def in_colab() -> bool:
    """True inside Google Colab."""
    try:
        import google.colab  # noqa: F401  (only to see whether it is there)
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Runtime:
    """Where the lessons run, decided once: the device, mixed precision and memory layout."""

    device: torch.device
    name: str                     # e.g. "Tesla T4", "Apple GPU (MPS)", "CPU, 2 threads"
    amp_dtype: torch.dtype | None  # float16 autocast on CUDA; None (full float32) elsewhere
    channels_last: bool           # conv layers in NHWC, the layout tensor cores read fastest

    @property
    def amp(self) -> bool:
        """True when mixed precision is on (a GradScaler is then needed for float16)."""
        return self.amp_dtype is not None

    def autocast(self) -> AbstractContextManager:
        """torch.autocast with this runtime's dtype, or a no-op context when AMP is off.

        A no-op rather than `torch.autocast(..., enabled=False)`: torch 2.4 rejects an autocast
        for "mps" even when disabled.
        """
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def fork_rng(self) -> AbstractContextManager:
        """Save and restore the CPU's and this device's random state (draws inside leave no trace)."""
        if self.device.type == "cpu":
            return torch.random.fork_rng(devices=[])
        return torch.random.fork_rng(devices=[self.device.index or 0], device_type=self.device.type)


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
    """Pick the device and precision once per process (CUDA, then Apple MPS, then CPU) and say which.

    Every lesson reads this decision (`helpers.runtime.choose()`); none re-makes it. Later calls
    return the same Runtime and print nothing.
    """
    global _CHOSEN
    if _CHOSEN is not None:
        return _CHOSEN
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True  # fixed shapes each step: let cuDNN pick its fastest kernels
        _CHOSEN = for_device("cuda")
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        _CHOSEN = for_device("mps")
    else:
        _CHOSEN = for_device("cpu")
    if verbose:
        amp = f"mixed precision {str(_CHOSEN.amp_dtype).removeprefix('torch.')}" if _CHOSEN.amp else "float32"
        print(f"Using device: {_CHOSEN.device} ({_CHOSEN.name}; {amp})")
        if _CHOSEN.device.type == "cpu" and in_colab():
            print("  No GPU in this Colab runtime: the lessons carry on on the CPU at a smaller size. For "
                  "the full-size lessons choose Runtime > Change runtime type > T4 GPU, then Runtime > Run all.")
    return _CHOSEN


def device(verbose: bool = True) -> torch.device:
    """The chosen device (see choose())."""
    return choose(verbose).device


def is_out_of_memory(error: BaseException) -> bool:
    """True when `error` says a device ran out of memory: CUDA's OutOfMemoryError, or the plain
    RuntimeError that MPS (and the CPU allocator) raise with "out of memory" in the message."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def release_memory(device: torch.device | str) -> None:
    """Hand the memory cached by PyTorch's allocator on `device` back (after an out-of-memory error)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


# The versions the set-up cell prints (tests/test_colab.py checks what installing may change).
REPORTED_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "scikit-image",
                     "scikit-learn", "mlxtend")


def installed_versions() -> dict[str, str]:
    """{distribution name (lower case): version} of every installed Python distribution."""
    importlib.invalidate_caches()
    return {dist.metadata["Name"].lower(): dist.version for dist in importlib.metadata.distributions()
            if dist.metadata["Name"]}


def report_setup(before: dict[str, str] | None = None) -> list[str]:
    """The set-up cell's report: versions in use, the device, and whether to restart the runtime.

    `before` is installed_versions() taken before `pip install`; packages whose version it changed
    are returned, and printed with the advice to restart (an imported module keeps its old code).
    """
    after = installed_versions()
    before = {name.lower(): version for name, version in (before or {}).items()}
    print(f"Python {sys.version.split()[0]}; " + ", ".join(
        f"{name} {after.get(name, 'not installed')}" for name in REPORTED_PACKAGES))
    changed = sorted(name for name in before if name in after and before[name] != after[name])
    if changed:
        print("Installing the course changed " + ", ".join(f"{n} {before[n]} -> {after[n]}" for n in changed)
              + ". Restart the runtime (Runtime > Restart session), then run the notebook again "
                "(this cell will then change nothing).")
    choose(verbose=True)
    return changed


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def smoke_mode() -> bool:
    """True when GAN_COURSE_SMOKE=1: lessons shrink themselves to run in seconds (CI)."""
    return os.environ.get(SMOKE_ENV, "0").strip().lower() in {"1", "true", "yes"}


def _repo_root() -> Path | None:
    """The course checkout we are running in, if any (a folder holding helpers/ and solutions/)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "helpers").is_dir() and (folder / "solutions").is_dir():
            return folder
    return None


def _base(env: str, name: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    root = _repo_root()
    return (root if root is not None else Path.cwd()) / name


def run_dir(lesson: str) -> Path:
    """runs/<lesson>/ (made if missing, checked writable): where a lesson writes its results.

    In a checkout this is <repo>/runs, elsewhere (Colab) ./runs; GAN_COURSE_RUNS overrides.
    """
    if not lesson or "/" in lesson or "\\" in lesson:
        raise ValueError(f"lesson must be a folder name like '01_harmonic_gan', got {lesson!r}")
    base = _base(RUNS_ENV, "runs")
    where = f"{RUNS_ENV}={os.environ[RUNS_ENV]!r}" if os.environ.get(RUNS_ENV) else "the runs folder"
    if base.exists() and not base.is_dir():
        raise NotADirectoryError(f"{where} points at {base}, which is a file: results need a folder. "
                                 f"Set {RUNS_ENV} to a folder (or unset it to use ./runs).")
    path = base / lesson
    probe = path / ".writable"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PermissionError(f"Cannot write results to {path} ({where}): {error.strerror or error}. "
                              f"Set {RUNS_ENV} to a folder you can write to, then run again.") from error
    return path


def data_dir() -> Path:
    """data/ (made if missing): where downloads and caches go. GAN_COURSE_DATA overrides."""
    path = _base(DATA_ENV, "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_summary(lesson: str, headline: str, seed: int, **metrics: float) -> Path:
    """Write runs/<lesson>/summary.json: the headline that `make run` prints in its table, the
    lesson's SEED (so a run can be told from another and repeated) and its metrics."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be the lesson's SEED, an int, got {type(seed).__name__} {seed!r}")
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

def _spec(name: str, value, rule) -> tuple:
    """A start() rule as helpers.params.validate's spec: str, (kind, low, high) or (choices...)."""
    if rule is str:
        return (value, str)
    if isinstance(rule, tuple) and rule and (isinstance(rule[0], type) or isinstance(rule[0], types.UnionType)):
        return (value, *rule)
    if isinstance(rule, tuple) and rule:
        return (value, rule)
    raise TypeError(f"{name}: a rule is str, (int|float, low, high) or a tuple of allowed values, got {rule!r}")


def start(lesson: str, namespace: dict, rules: dict, smoke: dict | None = None) -> Path:
    """The one call after a lesson's parameters cell: returns runs/<lesson>/, ready to write.

        RUN_DIR = start("02_mnist_gan", globals(),
                        rules=dict(STEPS=(int, 1, None), LR=(float, 1e-7, 1.0), DATASET=("mnist", "fashion")),
                        smoke=dict(STEPS=150))

    Checks every parameter named in `rules` (ParameterError naming each bad one), shrinks the
    numbers named in `smoke` to at most those values when GAN_COURSE_SMOKE=1 (CI) and says so,
    seeds everything with SEED when the lesson has one, and checks the runs folder can be written.
    """
    missing = [name for name in (*rules, *(smoke or {})) if name not in namespace]
    if missing:
        raise NameError(f"the parameters cell defines no {', '.join(missing)} (start() was asked to check it)")
    validate(**{name: _spec(name, namespace[name], rule) for name, rule in rules.items()})
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
