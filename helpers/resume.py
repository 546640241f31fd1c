"""Lesson 03's training in epochs that survives a disconnect: batches that resume mid-epoch, and one
checkpoint holding everything the run needs to continue (saved each epoch)."""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor, nn

from helpers.batches import ImageBatches
from helpers.checkpoints import CorruptCheckpoint, load_checkpoint, read_checkpoint, save_checkpoint
from helpers.training import History


class EpochBatches:
    """Endless batches (B, C, H, W) in [-1, 1] of uint8 images (N, C, H, W), each epoch a randperm drawn at its
    first batch (its last batch smaller when B does not divide N); the state_dict resumes in mid-epoch."""

    def __init__(self, images: Tensor, batch_size: int, flip: bool = False, channels_last: bool = False) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.images, self.batch_size, self.flip, self.channels_last = images, batch_size, flip, channels_last
        self.steps_per_epoch = math.ceil(len(images) / batch_size)
        self.epochs_done, self.batches_done = 0, 0
        self.order: Tensor | None = None  # this epoch's permutation, once its first batch is drawn
        self._epoch: ImageBatches | None = None

    @property
    def steps_done(self) -> int:
        return self.epochs_done * self.steps_per_epoch + self.batches_done

    def __iter__(self) -> EpochBatches:
        return self

    def __next__(self) -> Tensor:
        if self._epoch is None:
            if self.order is None:
                self.order = torch.randperm(len(self.images))
            self._epoch = ImageBatches(self.images, self.batch_size, flip=self.flip, epochs=1,
                                       order=self.order, start=self.batches_done)
        batch = next(self._epoch)
        self.batches_done += 1
        if self.batches_done == self.steps_per_epoch:  # the epoch is over: the next batch draws a new order
            self.epochs_done, self.batches_done, self.order, self._epoch = self.epochs_done + 1, 0, None, None
        return batch.contiguous(memory_format=torch.channels_last) if self.channels_last else batch

    def state_dict(self) -> dict:
        order = self.order if self.order is not None else torch.empty(0, dtype=torch.long)
        return {"epochs_done": self.epochs_done, "batches_done": self.batches_done, "order": order.cpu()}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {"epochs_done", "batches_done", "order"}:
            raise ValueError(f"expected an EpochBatches.state_dict() (epochs_done, batches_done, order), "
                             f"got {sorted(state) if isinstance(state, dict) else type(state).__name__}")
        self.epochs_done, self.batches_done = int(state["epochs_done"]), int(state["batches_done"])
        self.order = state["order"].cpu() if state["order"].numel() else None
        self._epoch = None


class TrainingRun:
    """One checkpoint file with what a run needs to continue with the same `config`: the history, the batches and
    `objects` by name (anything with a state_dict, restored in place, or tensors such as the fixed noise)."""

    def __init__(self, path: str | Path, config: dict, batches: EpochBatches, history: History, **objects) -> None:
        self.path, self.config = Path(path), config
        self.batches, self.history, self.objects = batches, history, objects
        self.read_only = False  # instructor mode: an earlier run shown, never overwritten

    def save(self) -> None:
        """Write the checkpoint, except in instructor mode. In the loop's body steps() has not yet counted
        the step that just ran, so history.done is set from the batches drawn."""
        if not self.read_only:
            self.history.done = self.batches.steps_done
            save_checkpoint(self.path, config=self.config, batches=self.batches, history=self.history,
                            **self.objects)

    def resume(self, fresh: bool = False) -> bool:
        """Continue the run saved at `path` if it verifies and has this config; True if it did. Otherwise,
        or with fresh=True, start fresh: the old file is moved aside, never deleted."""
        if not self.path.is_file():
            return False
        if fresh:
            return self._move_aside("previous", "is not resumed (starting over)")
        try:
            saved = read_checkpoint(self.path)
        except CorruptCheckpoint as error:
            return self._move_aside("damaged", f"does not verify ({error})")
        names = {"batches", "history", *self.objects}
        if saved.get("config") != self.config or not names <= set(saved):
            return self._move_aside("other_config", f"was made with another configuration or version "
                                                    f"(config {saved.get('config')}, holding {sorted(saved)})")
        self._load(self.path, names)
        print(f"Resuming from {self.path}: {self.batches.epochs_done} epochs done ({self.history.done:,} steps).")
        return True

    def show(self, path: str | Path) -> None:
        """Instructor mode: load an earlier run's models, tensors, history and position; never save."""
        names = {"batches", "history"} | {n for n, obj in self.objects.items() if isinstance(obj, (nn.Module, Tensor))}
        saved = read_checkpoint(path)
        if not names <= set(saved):
            raise ValueError(f"{path} holds {sorted(saved)}; expected a training checkpoint of this lesson "
                             f"(its checkpoint.pt) with {sorted(names)}")
        self._load(path, names)
        self.read_only = True
        print(f"Loaded {path}: {self.batches.epochs_done} epochs, {self.history.done:,} steps of training.")

    def _load(self, path: str | Path, names: set[str]) -> None:
        objects = {"batches": self.batches, "history": self.history, **self.objects}
        stateful = {n: objects[n] for n in names if not isinstance(objects[n], Tensor)}
        saved = load_checkpoint(path, **stateful)
        for name in names - set(stateful):
            objects[name].copy_(saved[name])

    def _move_aside(self, why: str, reason: str) -> bool:
        aside = self.path.with_name(f"{self.path.stem}_{why}.pt")
        self.path.replace(aside)
        print(f"{self.path.name} {reason}: training starts fresh (the old file is kept as {aside.name}).")
        return False


def saved_sizes(path: str | Path) -> tuple[int, int, int]:
    """Instructor mode: (image_size, feature_maps, latent_dim) from a TrainingRun checkpoint's config."""
    keys = ("image_size", "feature_maps", "latent_dim")
    saved = read_checkpoint(path)
    config = saved.get("config")
    if not isinstance(config, dict) or not set(keys) <= set(config):
        raise ValueError(f"{path} is not a training checkpoint of this lesson: expected a 'config' with "
                         f"{', '.join(keys)}; it holds {sorted(saved)}"
                         + (f", its config {sorted(config)}" if isinstance(config, dict) else ""))
    sizes = tuple(int(config[key]) for key in keys)
    print(f"Instructor mode: loading {path} ({sizes[0]}×{sizes[0]}, {sizes[1]} feature maps), no training.")
    return sizes
