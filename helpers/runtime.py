"""Where a lesson runs: the device, random seeds, smoke mode, and where results and data go."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import torch

SMOKE_ENV = "GAN_COURSE_SMOKE"
RUNS_ENV = "GAN_COURSE_RUNS"
DATA_ENV = "GAN_COURSE_DATA"


def in_colab() -> bool:
    """True inside Google Colab."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def device(verbose: bool = True) -> torch.device:
    """Pick the best device once (CUDA, then Apple MPS, then CPU) and say which."""
    if torch.cuda.is_available():
        chosen = torch.device("cuda")
        name = torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        chosen, name = torch.device("mps"), "Apple GPU (MPS)"
    else:
        chosen, name = torch.device("cpu"), f"CPU, {torch.get_num_threads()} threads"
    if verbose:
        print(f"Using device: {chosen} ({name})")
        if chosen.type == "cpu" and in_colab():
            print("  No GPU in this Colab runtime. For the full-size lessons choose "
                  "Runtime > Change runtime type > T4 GPU, then Runtime > Run all.")
    return chosen


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
    """runs/<lesson>/ (made if missing): where a lesson writes its results.

    In a checkout this is <repo>/runs, elsewhere (Colab) ./runs; GAN_COURSE_RUNS overrides.
    """
    if not lesson or "/" in lesson or "\\" in lesson:
        raise ValueError(f"lesson must be a folder name like '01_harmonic_gan', got {lesson!r}")
    path = _base(RUNS_ENV, "runs") / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """data/ (made if missing): where downloads and caches go. GAN_COURSE_DATA overrides."""
    path = _base(DATA_ENV, "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_summary(lesson: str, headline: str, **metrics: float) -> Path:
    """Write runs/<lesson>/summary.json: the headline that `make run` prints in its table."""
    path = run_dir(lesson) / "summary.json"
    clean = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer)) else v)
             for k, v in metrics.items()}
    path.write_text(json.dumps({"headline": headline, "smoke": smoke_mode(), **clean}, indent=2))
    return path
