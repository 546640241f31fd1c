"""Training in epochs that survives a disconnect: batches that resume mid-epoch, a checkpoint per epoch.

    batches = EpochBatches(faces.images, 128, flip=True)        # next(batches): (B, C, S, S) in [-1, 1]
    run = TrainingRun("runs/03/checkpoint.pt", config, batches, history,
                      generator=generator, d_optimizer=d_optimizer, ..., fixed_noise=fixed_noise)
    run.resume()                                                # continue the saved run, if it fits
    for step in steps(EPOCHS * batches.steps_per_epoch, history):
        real_images = next(batches)
        ...
        if step.every(batches.steps_per_epoch):
            run.save()                                          # a disconnect costs at most one epoch
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor, nn

from helpers.batches import ImageBatches
from helpers.checkpoints import CorruptCheckpoint, load_checkpoint, read_checkpoint, save_checkpoint
from helpers.training import History


class EpochBatches:
    """Endless float batches (B, C, H, W) in [-1, 1] from uint8 images (N, C, H, W), one epoch after another.

    Each epoch is a torch.randperm(N) order (the global random state, drawn at its first batch);
    its last batch is smaller when N is not a multiple of batch_size, so no image is dropped.
    flip: mirror each image left-right with probability 1/2; channels_last: batches in the memory
    layout that tensor cores read fastest (a CUDA runtime's choice). The position in the epochs (epochs
    done, batches done in this epoch, this epoch's order) is a state_dict: training resumes in
    the middle of an epoch without replaying it.
    """

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
        """Batches drawn so far, over all epochs."""
        return self.epochs_done * self.steps_per_epoch + self.batches_done

    def __iter__(self) -> "EpochBatches":
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
    """One file with everything a run needs to continue: models, optimizers, scaler, tensors, history, batches.

    `objects` are saved by name: anything with a state_dict (restored in place) or tensors such as
    the fixed noise (copied back in place). `config` (the sizes, the data) must match for a resume.
    """

    def __init__(self, path: str | Path, config: dict, batches: EpochBatches, history: History,
                 **objects) -> None:
        self.path, self.config, self.batches, self.history = Path(path), config, batches, history
        self.objects = objects
        self.read_only = False  # instructor mode: an earlier run shown, never overwritten

    def save(self) -> None:
        """Write the checkpoint (except in instructor mode). Inside the loop's body steps() has not
        yet counted the step that just ran, so history.done is set from the batches drawn."""
        if self.read_only:
            return
        self.history.done = self.batches.steps_done
        save_checkpoint(self.path, config=self.config, batches=self.batches, history=self.history,
                        **self.objects)

    def resume(self, fresh: bool = False) -> bool:
        """Continue the run saved at `path` if it verifies and has this config; True if it did.

        Otherwise (or with fresh=True) start fresh: the old file is moved aside, never deleted.
        """
        if not self.path.is_file():
            return False
        if fresh:
            return self._move_aside("previous", "is not resumed (starting over)")
        try:
            saved = read_checkpoint(self.path)  # CRC-checked
        except CorruptCheckpoint as error:
            return self._move_aside("damaged", f"does not verify ({error})")
        if saved.get("config") != self.config or not self._names() <= set(saved):
            return self._move_aside("other_config", f"was made with another configuration or version "
                                                    f"(config {saved.get('config')}, holding {sorted(saved)})")
        self._load(self.path, self._names())
        print(f"Resuming from {self.path}: {self.batches.epochs_done} epochs done "
              f"({self.history.done:,} steps).")
        return True

    def show(self, path: str | Path) -> None:
        """Instructor mode: load an earlier run's models, tensors, history and position; never save."""
        names = {"batches", "history"} | {name for name, obj in self.objects.items()
                                          if isinstance(obj, (nn.Module, Tensor))}
        saved = read_checkpoint(path)
        if not names <= set(saved):
            raise ValueError(f"{path} holds {sorted(saved)}; expected a training checkpoint of this lesson "
                             f"(its checkpoint.pt) with {sorted(names)}")
        self._load(path, names)
        self.read_only = True
        print(f"Loaded {path}: {self.batches.epochs_done} epochs, {self.history.done:,} steps of training.")

    def _names(self) -> set[str]:
        return {"batches", "history", *self.objects}

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
    """Instructor mode: (image_size, feature_maps, latent_dim) from the config of a checkpoint that
    TrainingRun wrote (CRC-checked), to build models that can load it."""
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
