"""Lesson 09 (the style-based generator): its checks against the solution and against usual mistakes, the
generator's pieces, the outputs a smoke run writes, and the main loop's interrupt-and-continue."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from helpers.checks import CheckFailed, lesson09 as checks
from helpers.classifier import mix_readings
from helpers.runtime import ParameterError
from helpers.taught import lesson09 as solution
from interrupting import InterruptingBatches

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "09_style_based_gan.ipynb"
LESSON = "09_style_based_gan"


# --- wrong answers, one usual mistake each (tests/test_checks_teach.py uses them too) ----------------------

def _modulated(x, weight, styles, up):
    """Modulation without demodulation, written here: a wrong answer may not call the solution (the check
    patches it to fail)."""
    x = x * styles[:, :, None, None]
    if up:
        return F.conv_transpose2d(x, weight.transpose(0, 1), stride=2, padding=1)
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2)


def _norms(weight, styles):
    return styles.square() @ weight.square().sum((2, 3)).t()          # (N, C_out)


def conv_without_demodulation(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    return _modulated(x, weight, styles, up)


def conv_with_one_weight_for_the_batch(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    shared = styles.mean(0, keepdim=True).expand_as(styles)
    y = _modulated(x, weight, shared, up)
    return y * torch.rsqrt(_norms(weight, shared) + eps)[:, :, None, None] if demodulate else y


def conv_demodulated_over_output_channels(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    if not demodulate:
        return _modulated(x, weight, styles, up)
    normalised = weight * torch.rsqrt(weight.square().sum((0, 2, 3), keepdim=True))   # per input channel
    return _modulated(x, normalised, torch.ones_like(styles), up)


def conv_with_one_norm_per_sample(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    y = _modulated(x, weight, styles, up)
    if not demodulate:
        return y
    return y * torch.rsqrt(styles.square() @ weight.square().sum((0, 2, 3)) + eps)[:, None, None, None]


def conv_always_demodulated(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    return _modulated(x, weight, styles, up) * torch.rsqrt(_norms(weight, styles) + eps)[:, :, None, None]


def conv_with_eps_outside_the_root(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    y = _modulated(x, weight, styles, up)
    return y * (torch.rsqrt(_norms(weight, styles)) + eps)[:, :, None, None] if demodulate else y


def conv_ignoring_the_styles(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    ones = torch.ones_like(styles)
    y = _modulated(x, weight, ones, up)
    return y * torch.rsqrt(_norms(weight, ones) + eps)[:, :, None, None] if demodulate else y


def conv_demodulated_without_modulating(x, weight, styles, up=False, demodulate=True, eps=1e-8):
    y = _modulated(x, weight, torch.ones_like(styles), up)
    return y * torch.rsqrt(_norms(weight, styles) + eps)[:, :, None, None] if demodulate else y


def mix_swapped(w_a, w_b, crossover, num_layers):
    return torch.stack([w_b if i < crossover else w_a for i in range(num_layers)], dim=1)


def mix_off_by_one(w_a, w_b, crossover, num_layers):
    return torch.stack([w_a if i <= crossover else w_b for i in range(num_layers)], dim=1)


def truncate_z(generator, z, psi, w_avg):
    return generator.map(psi * z)


def truncate_wrong_side(generator, z, psi, w_avg):
    w = generator.map(z)
    return w + psi * (w_avg - w)


def mean_w_of_one_sample(generator, n=10_000):
    return generator.map(torch.randn(1, generator.latent_dim))[0]


def mean_w_of_the_mean_z(generator, n=10_000):
    return generator.map(torch.zeros(1, generator.latent_dim))[0]


# --- the checks --------------------------------------------------------------------------------------------

def test_checks_accept_the_solution(capsys):
    checks.check_modulated_conv(solution.modulated_conv)
    checks.check_mix_styles(solution.mix_styles)
    checks.check_truncation(solution.truncate, solution.mean_w)
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize("answer, named", [
    (conv_without_demodulation, "not demodulated"),
    (conv_with_one_weight_for_the_batch, "same weight"),
    (conv_demodulated_over_output_channels, "summed over the output channels"),
    (conv_with_one_norm_per_sample, "summed over the output channels"),
    (conv_always_demodulated, "although demodulate=False"),
    (conv_with_eps_outside_the_root, "eps inside"),
    (conv_ignoring_the_styles, "never applied"),
    (conv_demodulated_without_modulating, "only the division uses the styles"),
])
def test_modulated_conv_check_names_the_mistake(answer, named):
    with pytest.raises(CheckFailed, match=named):
        checks.check_modulated_conv(answer)


@pytest.mark.parametrize("answer, named", [(mix_swapped, "swapped"), (mix_off_by_one, "first layer of B"),
                                           (lambda a, b, c, n: torch.stack([a] * n, 1), "layers")])
def test_mix_styles_check_names_the_mistake(answer, named):
    with pytest.raises(CheckFailed, match=named):
        checks.check_mix_styles(answer)


@pytest.mark.parametrize("truncate, mean_w, named", [
    (truncate_z, solution.mean_w, "z was truncated"),
    (truncate_wrong_side, solution.mean_w, "wrong side"),
    (solution.truncate, mean_w_of_one_sample, "one or a few samples"),
    (solution.truncate, mean_w_of_the_mean_z, "average z"),
    (lambda g, z, psi, w_avg: w_avg[None] + psi * (g.map(z) - w_avg[None]), solution.mean_w, "one centre per sample"),
    (solution.truncate, lambda g, n=10_000: g.map(torch.randn(n, 64)).mean(0), "generator.latent_dim"),
])
def test_truncation_check_names_the_mistake(truncate, mean_w, named):
    with pytest.raises(CheckFailed, match=named):
        checks.check_truncation(truncate, mean_w)


# --- the generator's pieces --------------------------------------------------------------------------------

def test_modulated_conv_equals_one_demodulated_weight_per_sample():
    torch.manual_seed(1)
    x, weight, styles = torch.randn(2, 3, 5, 5), torch.randn(4, 3, 3, 3), torch.rand(2, 3) + 0.5
    got = solution.modulated_conv(x, weight, styles)
    for i in range(2):
        w = styles[i, None, :, None, None] * weight
        w = w / w.square().sum((1, 2, 3), keepdim=True).sqrt()
        assert torch.allclose(got[i], F.conv2d(x[i:i + 1], w, padding=1)[0], atol=1e-5)
    assert solution.modulated_conv(torch.randn(2, 3, 5, 5), torch.randn(4, 3, 4, 4), styles, up=True).shape == (
        2, 4, 10, 10)


def test_generator_shapes_and_styles_per_layer():
    torch.manual_seed(0)
    g = solution.StyleGenerator(latent_dim=8, layers=((8, False), (8, True), (4, True), (4, False), (4, True)))
    z = torch.randn(3, 8)
    images = g(z)
    assert images.shape == (3, 1, 32, 32) and images.abs().max() <= 1
    w = g.map(z)
    assert w.shape == (3, 8)
    for layer in g.layers:
        layer.noise_strength.data.zero_()                                   # noise off: the output is a function of ws
    same = g.synthesis(solution.mix_styles(w, w, 2, g.num_layers))
    assert torch.allclose(same, g.synthesis(w[:, None].expand(-1, 5, -1)))
    mixed = g.synthesis(solution.mix_styles(w, w.flip(0), 2, g.num_layers))
    assert not torch.allclose(mixed, same), "the fine layers' styles change nothing"


def test_a_plain_layer_keeps_the_size_and_the_skip_sum_follows():
    g = solution.StyleGenerator(latent_dim=8, layers=((8, False), (8, True), (4, False)))
    assert g(torch.randn(2, 8)).shape == (2, 1, 8, 8) and g.layers[2].weight.shape == (4, 8, 3, 3)


def test_generator_for_faces_has_five_resolutions_and_three_channels():
    torch.manual_seed(0)
    g = solution.StyleGenerator(latent_dim=8, layers=((8, False), (8, True), (4, True), (4, True), (4, True)),
                                image_channels=3)
    images = g(torch.randn(2, 8))
    assert images.shape == (2, 3, 64, 64) and g.num_layers == 5
    assert not torch.allclose(images[:, 0], images[:, 1]), "the three channels are copies of one"


def test_mapping_normalises_each_z_over_its_own_numbers_whatever_the_batch_shape():
    g = solution.StyleGenerator(latent_dim=8, layers=((8, False), (8, True)))
    z = torch.randn(2, 5, 8)
    assert torch.allclose(g.map(z), torch.stack([g.map(z[0]), g.map(z[1])]), atol=1e-6)
    assert torch.allclose(g.map(z[0]), g.map(3 * z[0]), atol=1e-5), "pixel norm: the scale of z does not matter"


class _PixelReader(torch.nn.Module):
    """A stand-in judge: reads each image as the digit written in its top-left pixel, (digit / 5) - 1."""

    config = {"channels": 1}

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # classifier_predictions finds the device here

    def forward(self, images):
        return F.one_hot(((images[:, 0, 0, 0] + 1) * 5).round().long().clamp(0, 9), 10).float()


def test_mix_readings_count_a_over_all_pairs_and_b_over_the_pairs_that_differ():
    def digits(*labels):
        images = torch.zeros(len(labels), 1, 28, 28)
        images[:, 0, 0, 0] = torch.tensor(labels, dtype=torch.float) / 5 - 1
        return images
    a, b = digits(1, 2, 3, 4), digits(1, 7, 8, 9)           # the first pair reads the same: left out of "as B"
    mixed = digits(1, 2, 8, 5)                               # as A: 1, 2; as B: 8 (of 7, 8, 9); 5 is neither
    assert mix_readings(_PixelReader(), mixed, a, b) == pytest.approx((2 / 4, 1 / 3))


def test_truncation_at_zero_gives_the_average_for_every_z():
    g = solution.StyleGenerator(latent_dim=8, layers=((8, False), (8, True), (4, True)))
    w_avg = solution.mean_w(g, 1000)
    w = solution.truncate(g, torch.randn(5, 8), 0.0, w_avg)
    assert torch.allclose(w, w_avg.expand(5, -1))


# --- the lesson, in smoke mode ------------------------------------------------------------------------------

def notebook_cell(marker: str) -> str:
    cells = [c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
             if c.cell_type == "code" and marker in c.source]
    assert len(cells) == 1, f"{len(cells)} cells contain {marker!r}"
    return cells[0]


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """The lesson's cells tagged `bench` (all that writes its outputs), run here in smoke mode."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from inprocess import notebook_namespace
    runs = tmp_path_factory.mktemp("runs")
    saved = {k: os.environ.get(k) for k in ("GAN_COURSE_RUNS", "GAN_COURSE_SMOKE")}
    os.environ["GAN_COURSE_RUNS"] = str(runs)
    try:
        yield notebook_namespace(NOTEBOOK, smoke=True), runs / LESSON
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_smoke_run_writes_the_outputs(lesson):
    ns, run_dir = lesson
    samples = torch.load(run_dir / "stylegan_samples.pt", weights_only=True)
    assert samples.shape == (10000, 1, 28, 28) and samples.dtype == torch.float32
    assert samples.min() >= -1 and samples.max() <= 1 and samples.std() > 0.05
    mixing = torch.load(run_dir / "style_mixing.pt", weights_only=True)
    assert set(mixing) == {"a", "b", "mixed", "crossover"} and mixing["crossover"] == ns["CROSSOVER"]
    for key in ("a", "b", "mixed"):
        assert mixing[key].shape[0] >= 1000 and mixing[key].shape[1:] == (1, 28, 28)
        assert mixing[key].min() >= -1 and mixing[key].max() <= 1
    assert not torch.equal(mixing["mixed"], mixing["a"]) and not torch.equal(mixing["mixed"], mixing["b"])
    for file in ("truncation.json", "truncation_centres.json"):
        table = json.loads((run_dir / file).read_text())
        assert [row["psi"] for row in table][0] == 1.0 and 0.5 in [row["psi"] for row in table]
        for row in table:
            assert set(row) == {"psi", "fd", "classes", "confidence"}
            assert row["fd"] >= 0 and 0 <= row["classes"] <= 10 and 0 < row["confidence"] <= 1
    towards_mean = json.loads((run_dir / "truncation.json").read_text())
    assert table[-1]["psi"] == 0.0 and table[-1] != towards_mean[-1]  # ψ = 0: twenty centres, not the one w̄
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["smoke"] is True and summary["crossover"] == ns["CROSSOVER"] and summary["headline"]


def test_faces_train_on_lesson_03s_data_path_and_skip_what_needs_the_digit_judge(monkeypatch, tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from inprocess import notebook_namespace
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path / "data"))  # the decoded-faces cache goes there
    folder = tmp_path / "my_faces"                          # DATA names a folder: lesson 03's load_faces(folder=...)
    folder.mkdir()
    for i in range(20):
        image = torch.rand(3, 40, 48).mul(255).byte().permute(1, 2, 0).numpy()
        Image.fromarray(image).save(folder / f"{i}.png")
    ns = notebook_namespace(NOTEBOOK, parameters={"DATA": str(folder), "STEPS": 4, "BATCH_SIZE": 8,
                                                  "EVAL_EVERY": 2, "EVAL_SAMPLES": 16})
    assert ns["train_images"].shape == (20, 3, 64, 64) and ns["generator"].num_layers == 6
    assert ns["samples"].shape == (64, 3, 64, 64) and ns["history"].done == 4
    assert ns["discriminator"](torch.zeros(2, 3, 64, 64)).shape == (2, 1)
    assert sorted(p.name for p in (tmp_path / LESSON).iterdir()) == ["summary.json", "training.png"]
    summary = json.loads((tmp_path / LESSON / "summary.json").read_text())
    assert "no judge" in summary["headline"] and str(folder) in summary["data_source"] and "fd" not in summary


def test_a_folder_that_is_not_there_stops_with_its_name(monkeypatch, tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from inprocess import notebook_namespace
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    with pytest.raises(FileNotFoundError, match="no folder at fashion"):
        notebook_namespace(NOTEBOOK, parameters={"DATA": "fashion"})


def test_a_crossover_outside_the_layers_stops_at_the_parameters(monkeypatch, tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from inprocess import notebook_namespace
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    with pytest.raises(ParameterError, match="CROSSOVER"):
        notebook_namespace(NOTEBOOK, parameters={"CROSSOVER": 5})


def run_main_loop(ns: dict, interrupt_at: int) -> None:
    """Run the solution's loop cell in `ns`, pressing Ctrl-C during its `interrupt_at`-th step."""
    ns["batches"] = InterruptingBatches(ns["batches"], interrupt_at)
    exec(notebook_cell("for step in steps(STEPS"), ns)
    ns["batches"] = ns["batches"].batches


def test_main_loop_continues_after_an_interrupt(lesson, capsys):
    ns, _ = lesson
    total = ns["STEPS"]
    assert total > 12 and ns["EVAL_EVERY"] > 12  # no evaluation within the steps below
    build = notebook_cell("generator = StyleGenerator(")

    exec(build, ns)
    generator, optimizer = ns["generator"], ns["g_optimizer"]
    run_main_loop(ns, interrupt_at=5)                     # Ctrl-C while step 5 runs: it finishes, then stops
    assert f"Stopped after step 5 of {total}" in capsys.readouterr().out
    assert ns["history"].done == 5
    after_first = [p.detach().clone() for p in generator.parameters()]
    run_main_loop(ns, interrupt_at=7)                     # the cell run again: steps 6..12
    assert f"Continuing from step 5 of {total}" in capsys.readouterr().out
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
