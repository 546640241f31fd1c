"""Models, optimizers, a History and plain values in one file, every record's CRC-32 checked on load
(torch.load does not check them, so a damaged file could load as wrong weights)."""
from __future__ import annotations

import copy
import zipfile
from pathlib import Path, PurePath

import numpy as np
import torch
from torch import Tensor


class CorruptCheckpoint(ValueError):
    """A saved file failed its integrity check (truncated, or bytes changed since it was written)."""


# What torch.load(weights_only=True) reads back; what it refuses, and what to save instead.
_PLAIN = (Tensor, bool, int, float, str, type(None), torch.Size, torch.dtype, torch.device)
_HINTS = {PurePath: "save str(path)", torch.Generator: "save generator.get_state() (a tensor)",
          np.ndarray: "save torch.from_numpy(array)", np.generic: "convert numpy numbers with int() or float()"}


def _check_saveable(value, where: str) -> None:
    """Raise ValueError, naming the entry, unless `value` is made of what a weights-only load accepts."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise ValueError(f"{where} has a key {key!r} of type {type(key).__name__}; "
                                 "checkpoint keys must be str or int")
            _check_saveable(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_saveable(item, f"{where}[{i}]")
    elif not isinstance(value, _PLAIN):
        hint = next((h for kind, h in _HINTS.items() if isinstance(value, kind)),
                    "save tensors, numbers, strings, or objects with a state_dict()")
        raise ValueError(f"{where} is a {type(value).__module__}.{type(value).__name__}, which a weights-only "
                         f"load refuses: {hint}")


def save_checkpoint(path: str | Path, **objects) -> Path:
    """Save named models, optimizers, a History (their state_dict()), tensors and plain values to one file."""
    if not objects:
        raise ValueError("save_checkpoint needs at least one named object to save")
    state = {name: obj.state_dict() if hasattr(obj, "state_dict") else obj for name, obj in objects.items()}
    for name, value in state.items():
        _check_saveable(value, name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # an interrupted save never leaves a half-written checkpoint behind
    return path


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """The dictionary saved at `path`, every record's CRC-32 checked; CorruptCheckpoint if it does not verify."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected a file written by save_checkpoint)")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()  # reads every record and compares its CRC-32
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise CorruptCheckpoint(f"{path} is not a readable checkpoint (truncated or damaged: {error})") from error
    if damaged is not None:
        raise CorruptCheckpoint(f"{path} is damaged: record {damaged!r} does not match its CRC-32")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile) as error:
        raise CorruptCheckpoint(f"{path} could not be read: {str(error).splitlines()[0]}") from error
    if not isinstance(state, dict):
        raise CorruptCheckpoint(f"{path} holds a {type(state).__name__}, not a checkpoint dictionary")
    return state


def load_checkpoint(path: str | Path, **objects) -> dict:
    """read_checkpoint, then restore the named objects in place, all or none -> the dictionary (plain values too)."""
    state = read_checkpoint(path)
    missing = [name for name in objects if name not in state]
    if missing:
        raise ValueError(f"checkpoint {path} has no {missing}; it holds {sorted(state)}")
    previous = {}
    try:
        for name, obj in objects.items():
            previous[name] = copy.deepcopy(obj.state_dict())
            obj.load_state_dict(state[name])
    except Exception:
        for name, before in previous.items():
            objects[name].load_state_dict(before)
        raise
    return state
