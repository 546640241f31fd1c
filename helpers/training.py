"""Training plumbing. The loop itself lives in each lesson; `steps()` is the one thing around it.

    for step in steps(STEPS, history, log_every=100):   # progress bar; NaN stops; Ctrl-C stops after the step
        ...                                            # the D step and the G step, in the lesson
        step.log(d_loss=d_loss, g_loss=g_loss)

`d_step` and `g_step` are lesson 01's two steps with the loss as an argument, for lesson 05's comparison and
lesson 03's check: D's spectral-norm weights are computed once per D step and D is frozen during the G step.
"""
from __future__ import annotations

import math
import signal
from typing import Iterable, Iterator

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from tqdm.auto import tqdm


class TrainingDiverged(RuntimeError):
    """Raised when a loss turns NaN or infinite: the run cannot recover from it."""


def _probabilities(outputs: Tensor, criterion: nn.Module) -> Tensor:
    """D's outputs as probabilities, whether the model ends in a sigmoid or returns logits."""
    return torch.sigmoid(outputs) if isinstance(criterion, nn.BCEWithLogitsLoss) else outputs


def d_step(discriminator: nn.Module, generator: nn.Module, real: Tensor, noise: Tensor,
           d_optimizer: torch.optim.Optimizer, criterion: nn.Module,
           real_label: float = 1.0) -> dict[str, Tensor]:
    """One discriminator update on a real batch (N, ...) and noise (N, latent_dim).

    D step: maximise log D(x) + log(1 - D(G(z))), i.e. minimise BCE with reals
    labelled `real_label` (1, or 0.9 for one-sided label smoothing) and fakes labelled 0.
    Returns d_loss, d_real = mean D(x) and d_fake = mean D(G(z)) as one-number tensors left on
    the device (reading them with float() or .item() would make a GPU wait: do it when logging).
    """
    if real.shape[0] != noise.shape[0]:
        raise ValueError(f"real batch and noise must have the same batch size, "
                         f"got {real.shape[0]} and {noise.shape[0]}")
    fake = generator(noise).detach()  # no gradient flows into G during the D step
    with parametrize.cached():  # a parametrized D (spectral norm) computes its weights once for both passes
        real_out = discriminator(real)
        fake_out = discriminator(fake)
    d_loss = (criterion(real_out, torch.full_like(real_out, real_label))
              + criterion(fake_out, torch.zeros_like(fake_out)))
    d_optimizer.zero_grad(set_to_none=True)
    d_loss.backward()
    d_optimizer.step()
    return {"d_loss": d_loss.detach(),
            "d_real": _probabilities(real_out, criterion).detach().mean(),
            "d_fake": _probabilities(fake_out, criterion).detach().mean()}


def g_step(discriminator: nn.Module, generator: nn.Module, noise: Tensor,
           g_optimizer: torch.optim.Optimizer, criterion: nn.Module) -> dict[str, Tensor]:
    """One generator update on noise (N, latent_dim).

    G step (non-saturating): minimise -log D(G(z)), i.e. BCE with fakes labelled 1.
    D's parameters are frozen for the step (each gets its own requires_grad back afterwards): the
    gradient still flows *through* D into G, but D's weight gradients, which the next D step would
    discard, are not computed. Returns g_loss, a one-number tensor left on the device (see d_step).
    """
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
    return {"g_loss": g_loss.detach()}


class History:
    """What happened while training: named series of floats, each logged at a step, and how many
    steps are done (steps() continues from there when its cell runs again)."""

    def __init__(self) -> None:
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.done = 0

    def log(self, step: int, **values: float) -> None:
        for name, value in values.items():
            value = float(value.item() if isinstance(value, Tensor) else value)
            self.series.setdefault(name, []).append((int(step), value))

    def steps(self, name: str) -> list[int]:
        return [s for s, _ in self._get(name)]

    def values(self, name: str) -> list[float]:
        return [v for _, v in self._get(name)]

    def last(self, name: str) -> float:
        series = self._get(name)
        if not series:
            raise ValueError(f"nothing logged yet for {name!r}")
        return series[-1][1]

    def _get(self, name: str) -> list[tuple[int, float]]:
        if name not in self.series:
            raise ValueError(f"no series named {name!r}; logged so far: {sorted(self.series)}")
        return self.series[name]

    def __contains__(self, name: str) -> bool:
        return name in self.series

    def __len__(self) -> int:
        return max((len(v) for v in self.series.values()), default=0)

    def state_dict(self) -> dict:
        return {"done": self.done, "series": {k: [[s, v] for s, v in pairs] for k, pairs in self.series.items()}}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or set(state) != {"done", "series"}:
            raise ValueError(f"expected a History.state_dict() with keys 'done' and 'series', "
                             f"got {sorted(state) if isinstance(state, dict) else type(state).__name__}")
        self.series = {k: [(int(s), float(v)) for s, v in pairs] for k, pairs in state["series"].items()}
        self.done = int(state["done"])

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1][1]:.4g}" for k, v in self.series.items() if v)
        return f"History({self.done} steps done; last: {last})"


ADVICE = ("Usual causes: a learning rate that is too high, log(0) from a sigmoid output with plain "
          "BCELoss (use logits with BCEWithLogitsLoss), or inputs that were never normalised. "
          "Lower the learning rate or restart from the last checkpoint.")


BCE_CAP = 100.0  # nn.BCELoss clamps log(p) at -100, so a loss term stuck at 100 means p is exactly 0


class DivergenceGuard:
    """Watches the losses of every step on their own device; reads them on the eval cadence.

        guard = DivergenceGuard(cap=BCE_CAP)      # cap: also stop losses pinned at BCELoss's cap
        for step in ...:
            ...                                   # the D step and the G step
            guard.watch(step, d_loss=d_loss, g_loss=g_loss)   # no host sync on a GPU
            if (step + 1) % EVAL_EVERY == 0:
                guard.check()                     # one sync; raises TrainingDiverged with advice

    On the CPU there is no sync to save, so watch() checks at once, at the step it happens.
    `patience`: how many steps in a row a loss must stay above cap / 2 (most of the batch at
    the cap) to count as pinned there.
    """

    def __init__(self, cap: float | None = None, patience: int = 10) -> None:
        if cap is not None and not (math.isfinite(cap) and cap > 0):
            raise ValueError(f"cap must be a positive number (e.g. BCE_CAP = 100) or None, got {cap!r}")
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive int, got {patience!r}")
        self.cap, self.patience = cap, patience
        self.names: tuple[str, ...] = ()
        self.step = 0
        self._state: Tensor | None = None  # (4, K): first bad step, its value, run at cap, longest run

    def watch(self, step: int, **losses: Tensor | float) -> None:
        """Record this step's losses (one-number tensors or floats) without reading them back."""
        names = tuple(losses)
        device = next((v.device for v in losses.values() if isinstance(v, Tensor)), torch.device("cpu"))
        values = torch.stack([torch.as_tensor(v, device=device).detach().float().reshape(())
                              for v in losses.values()])  # (K,) on the losses' device
        if self._state is None or names != self.names or self._state.device != values.device:
            self.names = names
            self._state = torch.zeros(4, len(names), device=values.device)
            self._state[0] = -1
        first, value, run, longest = self._state
        bad = ~torch.isfinite(values)
        new = bad & (first < 0)
        first.copy_(torch.where(new, torch.full_like(first, step), first))
        value.copy_(torch.where(new, values, value))
        if self.cap is not None:
            at_cap = values >= self.cap / 2  # most of the batch at the cap: a healthy BCE loss is below 10
            run.copy_(torch.where(at_cap, run + 1, torch.zeros_like(run)))
            longest.copy_(torch.maximum(longest, run))
        self.step = step
        if values.device.type == "cpu":
            self.check()

    def check(self) -> None:
        """Raise TrainingDiverged (saying which loss, since when, and what to try) if a watched loss went bad."""
        if self._state is None:
            return
        first, value, _, longest = self._state.tolist()  # the one host sync
        broken = [(int(f), n, v) for n, f, v in zip(self.names, first, value) if f >= 0]
        if broken:
            at, name, v = min(broken)
            raise TrainingDiverged(
                f"Training diverged at step {at}: {name} = {v}. A loss that is NaN or inf does not "
                f"come back, so training stopped (at step {self.step}). {ADVICE}")
        pinned = [(n, int(r)) for n, r in zip(self.names, longest) if r >= self.patience]
        if pinned:
            name, run = pinned[0]
            raise TrainingDiverged(
                f"Training is dead by step {self.step}: {name} stayed above {self.cap / 2:g} for {run} steps "
                f"in a row, near the cap of {self.cap:g} that BCELoss puts on -log(0). For most of the batch "
                f"D's sigmoid outputs exactly 0 or 1, so no gradient flows back and the networks stop "
                f"learning. Lower the learning rates (10x is a good first try) and run again; a loss on "
                f"logits (BCEWithLogitsLoss) does not saturate like this.")


def _nan_input_error(error: BaseException | None) -> TrainingDiverged | None:
    """BCELoss's complaint about NaN inputs as TrainingDiverged with advice; None for any other error."""
    if not (isinstance(error, RuntimeError) and "between 0 and 1" in str(error)):
        return None
    return TrainingDiverged(f"Training diverged: D's outputs are NaN, which BCELoss refuses "
                            f"(\"{str(error).splitlines()[0]}\"). The weights have become NaN or inf. {ADVICE}")


def _explain_nan_inputs_in_notebooks() -> None:
    """An error raised in a steps() loop's body never reaches steps(). In a notebook, a handler on the IPython
    shell shows BCELoss's complaint about NaN inputs as TrainingDiverged, with advice; other errors show as usual.
    A shell that has custom handlers of its own is left alone."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
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
    """The course's one progress bar (tqdm.auto: a widget in notebooks, text elsewhere), over
    `iterable`, or updated by hand (`total=`, `.update(n)`) when there is none."""
    kwargs.setdefault("mininterval", 0.5)
    return tqdm(iterable, **kwargs)


class Step:
    """One step of a loop run by steps(): its number, and where its losses are logged."""

    def __init__(self, number: int, last: int, log_every: int, record) -> None:
        self.number, self.last, self.log_every = number, last, log_every
        self._record = record

    def log(self, **values: Tensor | float) -> None:
        """Log this step's numbers (one-number tensors are read back only every log_every steps)."""
        self._record(self, values)

    def every(self, interval: int) -> bool:
        """True on every interval-th step and on the last one: when to evaluate or redraw."""
        if not isinstance(interval, int) or interval <= 0:
            raise ValueError(f"interval must be a positive number of steps, got {interval!r}")
        return (self.number + 1) % interval == 0 or self.number == self.last

    def __index__(self) -> int:
        return self.number

    def __repr__(self) -> str:
        return f"Step({self.number} of {self.last + 1})"


class _Loop:
    """The state of one steps() loop: pending numbers, the NaN guard, the Ctrl-C flag, the bar."""

    def __init__(self, history: History, cap: float | None, bar: tqdm) -> None:
        self.history, self.bar = history, bar
        self.guard = DivergenceGuard(cap=cap)
        self.pending: dict[str, Tensor | float] = {}
        self.pending_step = -1
        self.stop_requested = False

    def record(self, step: Step, values: dict) -> None:
        values = {k: v.detach() if isinstance(v, Tensor) else v for k, v in values.items()}  # no graph kept
        self.guard.watch(step.number, **values)  # checks at once on the CPU, without a sync elsewhere
        self.pending, self.pending_step = values, step.number
        if step.every(step.log_every) or self.stop_requested:
            self.flush()

    def flush(self) -> None:
        """Read the last logged numbers back (the one host sync of the interval) into the history."""
        if not self.pending:
            return
        self.guard.check()
        numbers = {k: float(v) for k, v in self.pending.items()}
        self.history.log(self.pending_step, **numbers)
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in numbers.items()}, refresh=False)
        self.pending = {}

    def interrupt(self, signum, frame) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt
        self.stop_requested = True
        print("Ctrl-C: stopping at the end of this step (press again to stop at once).")


def steps(total: int, history: History, log_every: int = 100, cap: float | None = None,
          desc: str = "training") -> Iterator[Step]:
    """The steps of a training loop, from history.done up to `total`, with the course's safety around them.

        for step in steps(STEPS, history, log_every=100):
            ...                                    # the D step and the G step
            step.log(d_loss=d_loss, g_loss=g_loss)

    - a progress bar; every log_every steps (and at the last) the logged numbers go to `history`;
    - a loss that turns NaN or inf stops training with TrainingDiverged and advice; with `cap`
      (BCE_CAP), so does a loss pinned at BCELoss's cap of -log(0); in a notebook, BCELoss's own error on
      NaN inputs is shown with the same advice;
    - Ctrl-C (Kernel > Interrupt) lets the current step finish, then ends the loop: the models,
      optimizers and history keep what was trained, and running the cell again continues from there.
    """
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
    bar = progress(total=total, initial=history.done, desc=desc)
    loop = _Loop(history, cap, bar)
    try:
        previous = signal.signal(signal.SIGINT, loop.interrupt)
    except ValueError:  # not the main thread: no handler can be set, Ctrl-C stops at once
        previous = None
    try:
        for number in range(history.done, total):
            yield Step(number, total - 1, log_every, loop.record)
            history.done = number + 1
            bar.update(1)
            if loop.stop_requested:
                loop.flush()
                print(f"Stopped after step {history.done} of {total}: the models and the history keep "
                      "what was trained. Run the cell again to continue.")
                break
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
