"""steps(), the one helper around a lesson's training loop, the History it logs to, and lesson 01's D and G steps."""
from __future__ import annotations

import math
import signal
from typing import Iterable, Iterator

import IPython
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from tqdm.auto import tqdm

ADVICE = ("Usual causes: a learning rate that is too high, log(0) from a sigmoid output with plain "
          "BCELoss (use logits with BCEWithLogitsLoss), or inputs that were never normalised. "
          "Lower the learning rate or restart from the last checkpoint.")
BCE_CAP = 100.0  # nn.BCELoss clamps log(p) at -100, so a loss term stuck at 100 means p is exactly 0
PATIENCE = 10    # steps in a row above BCE_CAP / 2 (most of the batch at the cap) that count as pinned there


class TrainingDiverged(RuntimeError):
    """A loss turned NaN or infinite, or stayed at BCELoss's cap: the run cannot recover from it."""


def d_step(discriminator: nn.Module, generator: nn.Module, real: Tensor, noise: Tensor,
           d_optimizer: torch.optim.Optimizer, criterion: nn.Module) -> Tensor:
    """Lesson 01's D step with the loss as an argument -> d_loss, left on the device (steps() reads it to log)."""
    if real.shape[0] != noise.shape[0]:
        raise ValueError(f"real batch and noise must have the same batch size, "
                         f"got {real.shape[0]} and {noise.shape[0]}")
    fake = generator(noise).detach()  # no gradient flows into G during the D step
    with parametrize.cached():  # a parametrized D (spectral norm) computes its weights once for both passes
        real_out = discriminator(real)
        fake_out = discriminator(fake)
    d_loss = criterion(real_out, torch.ones_like(real_out)) + criterion(fake_out, torch.zeros_like(fake_out))
    d_optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    d_optimizer.step()
    return d_loss.detach()


def g_step(discriminator: nn.Module, generator: nn.Module, noise: Tensor,
           g_optimizer: torch.optim.Optimizer, criterion: nn.Module) -> Tensor:
    """Lesson 01's non-saturating G step with the loss as an argument -> g_loss. D is frozen: the gradient flows
    through it into G without building D's weight gradients, which its next step would discard."""
    trainable = [p for p in discriminator.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        fake_out = discriminator(generator(noise))
        g_loss = criterion(fake_out, torch.ones_like(fake_out))
        g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
    finally:
        for p in trainable:
            p.requires_grad_(True)
    g_optimizer.step()
    return g_loss.detach()


class History:
    """Named series of (step, value), and how many steps are done: steps() continues from there."""

    def __init__(self) -> None:
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.done = 0

    def log(self, step: int, **values: Tensor | float) -> None:
        for name, value in values.items():
            self.series.setdefault(name, []).append((int(step), float(value)))

    def steps(self, name: str) -> list[int]:
        return [s for s, _ in self._get(name)]

    def values(self, name: str) -> list[float]:
        return [v for _, v in self._get(name)]

    def last(self, name: str) -> float:
        return self._get(name)[-1][1]

    def _get(self, name: str) -> list[tuple[int, float]]:
        if not self.series.get(name):
            raise ValueError(f"no series named {name!r}; logged so far: {sorted(self.series)}")
        return self.series[name]

    def __contains__(self, name: str) -> bool:
        return name in self.series

    def state_dict(self) -> dict:
        return {"done": self.done, "series": {k: [[s, v] for s, v in pairs] for k, pairs in self.series.items()}}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {"done", "series"}:
            raise ValueError(f"expected a History.state_dict() with keys 'done' and 'series', "
                             f"got {sorted(state) if isinstance(state, dict) else type(state).__name__}")
        self.series = {k: [(int(s), float(v)) for s, v in pairs] for k, pairs in state["series"].items()}
        self.done = int(state["done"])


def _nan_input_error(error: BaseException | None) -> TrainingDiverged | None:
    """BCELoss's complaint about NaN inputs as TrainingDiverged with advice; None for any other error."""
    if not (isinstance(error, RuntimeError) and "between 0 and 1" in str(error)):
        return None
    return TrainingDiverged(f"Training diverged: D's outputs are NaN, which BCELoss refuses "
                            f"(\"{str(error).splitlines()[0]}\"). The weights have become NaN or inf. {ADVICE}")


def _explain_nan_inputs_in_notebooks() -> None:
    """In a notebook, show BCELoss's NaN-input error, raised in a loop's body where steps() never sees it, as
    TrainingDiverged (a shell with custom handlers of its own is left alone)."""
    shell = IPython.get_ipython()
    if shell is None or shell.custom_exceptions:
        return

    def show(shell, kind, error, traceback, tb_offset=None):
        explained = _nan_input_error(error)
        if explained is not None:
            explained.__cause__ = error
            kind, error = TrainingDiverged, explained
        return shell.showtraceback((kind, error, traceback), tb_offset=tb_offset)

    shell.set_custom_exc((RuntimeError,), show)


def progress(iterable: Iterable | None = None, **kwargs) -> tqdm:
    """The course's one progress bar (a widget in notebooks, text elsewhere), over `iterable` or updated by hand."""
    return tqdm(iterable, **{"mininterval": 0.5, **kwargs})


class Step:
    """A steps() loop's current step (`number`, from 0) and its state: numbers not yet checked, runs at the cap."""

    def __init__(self, total: int, history: History, log_every: int, cap: float | None, bar: tqdm) -> None:
        self.total, self.history, self.log_every, self.cap, self.bar = total, history, log_every, cap, bar
        self.number = history.done
        self.watched: list[tuple[int, dict[str, Tensor]]] = []  # (step, its numbers) since the last check
        self.last: tuple[int, dict[str, float]] | None = None   # the last checked step, not yet in the history
        self.at_cap: dict[str, int] = {}
        self.stop_requested = False

    def log(self, **values: Tensor | float) -> None:
        """Log this step's numbers: off the CPU they are read back only every log_every steps."""
        values = {k: torch.as_tensor(v).detach().float().reshape(()) for k, v in values.items()}  # no graph kept
        if values:
            self.watched.append((self.number, values))
        if all(v.device.type == "cpu" for v in values.values()):  # no GPU to wait for: check every step
            self.check()
        if self.every(self.log_every) or self.stop_requested:
            self.flush()

    def every(self, interval: int) -> bool:
        """True on every interval-th step and on the last one: when to evaluate or redraw."""
        if not isinstance(interval, int) or interval <= 0:
            raise ValueError(f"interval must be a positive number of steps, got {interval!r}")
        return (self.number + 1) % interval == 0 or self.number == self.total - 1

    def check(self) -> None:
        """Raise TrainingDiverged, with advice, if a number logged since the last check went bad."""
        if not self.watched:
            return
        device = next(iter(self.watched[0][1].values())).device
        read = iter(torch.stack([v.to(device) for _, values in self.watched for v in values.values()]).tolist())
        rows = [(number, {name: next(read) for name in values}) for number, values in self.watched]
        self.watched, stopped = [], rows[-1][0]  # the one read-back of the interval
        for number, numbers in rows:
            for name, value in numbers.items():
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"Training diverged at step {number}: {name} = {value}. A loss that is NaN or inf does not "
                        f"come back, so training stopped (at step {stopped}). {ADVICE}")
                pinned = self.cap is not None and value >= self.cap / 2
                self.at_cap[name] = self.at_cap.get(name, 0) + 1 if pinned else 0
                if self.at_cap[name] >= PATIENCE:
                    raise TrainingDiverged(
                        f"Training is dead by step {number}: {name} stayed above {self.cap / 2:g} for {PATIENCE} "
                        f"steps in a row, near the cap of {self.cap:g} that BCELoss puts on -log(0). For most of "
                        f"the batch D's sigmoid outputs exactly 0 or 1, so no gradient flows back and the networks "
                        f"stop learning. Lower the learning rates (10x is a good first try) and run again; a loss "
                        f"on logits (BCEWithLogitsLoss) does not saturate like this.")
        self.last = rows[-1]

    def flush(self) -> None:
        """Check what was logged and put the last step's numbers in the history."""
        self.check()
        if self.last is not None:
            number, numbers = self.last
            self.history.log(number, **numbers)
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in numbers.items()}, refresh=False)
            self.last = None

    def interrupt(self, signum, frame) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True
        print("Ctrl-C: stopping at the end of this step (press again to stop at once).")


def steps(total: int, history: History, log_every: int = 100, cap: float | None = None,
          desc: str = "training") -> Iterator[Step]:
    """The steps from history.done up to `total`, with a progress bar; every log_every steps (and at the last)
    the logged numbers go to `history`. A loss that turns NaN or inf, or with cap=BCE_CAP one pinned at
    BCELoss's cap, raises TrainingDiverged with advice. Ctrl-C ends the loop after the current step."""
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ValueError(f"total must be a number of steps (an int >= 0), got {total!r}")
    if not isinstance(log_every, int) or isinstance(log_every, bool) or log_every < 1:
        raise ValueError(f"log_every must be a positive int, got {log_every!r}")
    if not isinstance(history, History):
        raise TypeError(f"history must be a helpers.training.History, got {type(history).__name__}")
    if history.done >= total:
        print(f"{history.done} steps are done already (asked for {total}): nothing to train. "
              "Raise the number of steps to train on, or build fresh models to start again.")
        return
    if history.done:
        print(f"Continuing from step {history.done} of {total}.")
    _explain_nan_inputs_in_notebooks()
    step = Step(total, history, log_every, cap, progress(total=total, initial=history.done, desc=desc))
    try:
        previous = signal.signal(signal.SIGINT, step.interrupt)
    except ValueError:  # not the main thread: no handler can be set, Ctrl-C stops at once
        previous = None
    try:
        for number in range(history.done, total):
            step.number = number
            yield step
            history.done = number + 1
            step.bar.update(1)
            if step.stop_requested:
                step.flush()
                print(f"Stopped after step {history.done} of {total}: the models and the history keep "
                      "what was trained. Run the cell again to continue.")
                break
    finally:
        step.bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
