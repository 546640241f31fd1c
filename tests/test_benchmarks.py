"""Benchmarks measure the lesson's own code: they run the notebook's cells (benchmarks/inprocess.py),
never a re-typed copy. A benchmark that re-types a lesson's model or loop fails here."""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import inprocess  # noqa: E402
from inprocess import notebook_namespace  # noqa: E402

# a benchmark whose lesson code is a helper the lesson itself calls: the call both make
VIA_HELPERS = {"bench_04_style.py": "run_style_transfer("}
NOTEBOOKS = {path.name: next((ROOT / "solutions").glob(f"{path.name[6:8]}_*.ipynb"))
             for path in BENCHMARKS.glob("bench_*.py")}


@pytest.fixture(autouse=True)
def _smoke_env(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")  # inprocess sets it; undone after each test


def bench_module(name: str):
    return importlib.import_module(name)


def from_notebook(obj, notebook: Path) -> bool:
    code = getattr(obj, "__code__", None) or getattr(getattr(obj, "__init__", None), "__code__", None)
    return code is not None and code.co_filename.startswith(str(notebook))


def uses_inprocess(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    return any(isinstance(node, ast.ImportFrom) and node.module == "inprocess" for node in ast.walk(tree))


def top_level_names(source: str) -> set[str]:
    tree = ast.parse(source)
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def bench_cell_names(notebook: Path) -> set[str]:
    """Functions and classes defined by the notebook's cells tagged `bench`."""
    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    nb = nbformat.read(notebook, as_version=4)
    return set().union(*(top_level_names(transform(cell.source)) for cell in nb.cells
                         if cell.cell_type == "code" and "bench" in cell.metadata.get("tags", [])))


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("bench_*.py")), ids=lambda p: p.name)
def test_each_benchmark_gets_lesson_code_one_way(path):
    notebook = NOTEBOOKS[path.name]
    if path.name in VIA_HELPERS:
        call = VIA_HELPERS[path.name]
        assert call in notebook.read_text() and call in path.read_text(), \
            f"{path.name} should time the helper the lesson calls ({call}...)"
        return
    assert uses_inprocess(path), f"{path.name} should run the lesson's cells through benchmarks/inprocess.py"
    assert notebook.name in path.read_text(), f"{path.name} should name the notebook it runs ({notebook.name})"
    retyped = top_level_names(path.read_text()) & bench_cell_names(notebook)
    assert not retyped, f"{path.name} re-defines {sorted(retyped)}: take them from {notebook.name}'s cells"


def test_notebook_namespace_runs_only_tagged_cells_and_overrides_parameters():
    notebook = ROOT / "solutions" / "05_gan_failures.ipynb"
    ns = notebook_namespace(notebook, parameters={"STEPS": 7, "device": torch.device("cpu")}, smoke=True)
    assert ns["STEPS"] == 7
    assert "real_ring" not in ns  # defined in an untagged cell
    assert from_notebook(ns["train"], notebook) and from_notebook(ns["mode_coverage"], notebook)


def test_bench_03_times_the_lessons_train_step():
    bench = bench_module("bench_03_dcgan")
    lesson = bench.load_lesson(torch.device("cpu"), smoke=True)
    for name in ("Generator", "Discriminator", "init_weights", "train_step"):
        assert from_notebook(lesson[name], bench.NOTEBOOK), f"{name} does not come from {bench.NOTEBOOK.name}"
    models = bench.make_models(lesson, latent_dim=8, feature_maps=4, image_size=32, device=torch.device("cpu"))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    stats = bench.lesson_step(lesson, models, torch.rand(4, 3, 32, 32) * 2 - 1, 8, scaler)
    assert set(stats) == {"d_loss", "g_loss", "d_real", "d_fake"}  # the lesson's step, with its read-outs


def test_bench_05_smoke(monkeypatch, capsys):
    bench = bench_module("bench_05_failures")
    monkeypatch.setattr(sys, "argv", ["bench_05", "--smoke", "--seeds", "0", "1", "--methods", "gan", "pacgan_sn"])
    assert bench.main() == 0
    out = capsys.readouterr().out
    for line in ("ring8: median (range) over seeds [0, 1]", "grid25: median (range) over seeds [0, 1]",
                 "| pacgan_sn |", "VEEGAN (Srivastava et al., 2017)", "grid25 pacgan_sn: ≥ 24/25 modes",
                 "SN scale 15.0; the lesson's grid run uses pacgan_sn",
                 "ring8: 20 G steps (spectral norm 40)"):   # smoke shrinks STEPS, and spectral norm's 2 × STEPS with it
        assert line in out, f"expected {line!r} in the benchmark's output"


def test_bench_08_reads_parameter_overrides():
    bench = bench_module("bench_08_image_to_image")
    assert bench.NOTEBOOK.name == "08_image_to_image.ipynb" and bench.NOTEBOOK.is_file()
    defaults = inprocess.notebook_parameters(bench.NOTEBOOK)
    assert inprocess.assignments(defaults, ["CYCLE_STEPS=800", "CYCLE_LR=1e-3", "PAIRED_DATA=photos"]) == {
        "CYCLE_STEPS": 800, "CYCLE_LR": 1e-3, "PAIRED_DATA": "photos"}
    assert inprocess.assignments(defaults, ["LR=1"]) == {"LR": 1.0}  # an int where a float is expected
    for text, named in (("CYCLE_STEPS=1.5", "expected a int"), ("NO_SUCH=1", "NO_SUCH"), ("CYCLE_STEPS", "NAME=VALUE")):
        with pytest.raises(SystemExit, match=named):
            inprocess.assignments(defaults, [text])


def test_bench_05_set_overrides_lesson_parameters(monkeypatch, capsys):
    bench = bench_module("bench_05_failures")
    monkeypatch.setattr(bench, "_namespace", None)
    monkeypatch.setattr(sys, "argv", ["bench_05", "--smoke", "--seeds", "0", "--data", "grid25", "--methods", "pacgan",
                                      "--set", "GRID_STEPS=7", "GRID_SCALE=2.5"])
    assert bench.main() == 0
    assert bench.lesson()["GRID_STEPS"] == 7 and bench.lesson()["GRID_SCALE"] == 2.5  # reached the lesson's code
    assert "overridden: {'GRID_STEPS': 7, 'GRID_SCALE': 2.5}" in capsys.readouterr().out
    monkeypatch.setattr(bench, "_namespace", None)
    monkeypatch.setattr(sys, "argv", ["bench_05", "--smoke", "--set", "NO_SUCH_SETTING=1"])
    with pytest.raises(SystemExit, match="NO_SUCH_SETTING"):
        bench.main()
    capsys.readouterr()
    monkeypatch.setattr(bench, "_namespace", None)
    monkeypatch.setattr(sys, "argv", ["bench_05", "--smoke", "--data", "ring9"])  # a dataset the lesson lacks
    with pytest.raises(SystemExit):
        bench.main()
    assert "unknown data ['ring9']; the lesson's are ['ring8', 'grid25']" in capsys.readouterr().err


class _PixelReader(torch.nn.Module):
    """A stand-in judge: reads each image as the digit written in its top-left pixel, (digit / 5) - 1."""

    def __init__(self):
        super().__init__()
        self.config = {"channels": 1}
        self.unused = torch.nn.Parameter(torch.zeros(1))  # classifier_predictions finds the device here

    def forward(self, images):
        read = ((images[:, 0, 0, 0] + 1) * 5).round().long().clamp(0, 9)   # (N,)
        return torch.nn.functional.one_hot(read, 10).float()               # (N, 10) logits


def test_bench_08_judge_readings_count_true_labels_per_digit():
    bench = bench_module("bench_08_image_to_image")
    labels = torch.arange(10).repeat(2)                                    # (20,): two of each digit
    def written(digits):
        images = -torch.ones(len(digits), 1, 28, 28)
        images[:, 0, 0, 0] = digits.float() / 5 - 1
        return images
    misread = labels.clone()
    misread[labels == 7] = 1                                               # every 7 read as a 1
    misread[0] = 6                                                         # and one of the two 0s as a 6
    readings = bench.judge_readings(_PixelReader(), {"as drawn": written(labels), "misread": written(misread)}, labels)
    assert readings["as drawn"] == (1.0, [1.0] * 10)
    share, by_digit = readings["misread"]
    assert share == pytest.approx(17 / 20)
    assert by_digit == pytest.approx([0.5, 1, 1, 1, 1, 1, 1, 0, 1, 1])
    with pytest.raises(ValueError, match="19 images but 20 labels"):
        bench.judge_readings(_PixelReader(), {"short": written(labels[:19])}, labels)


def test_bench_08_second_judge_reads_the_lessons_translations(capsys):
    bench = bench_module("bench_08_image_to_image")
    assert bench.main(["--smoke", "--seeds", "0", "--judge-width", "4", "--judge-steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "width-4 judge" in out and "no translation" in out and "CycleGAN" in out
    lines = [line for line in out.splitlines() if line.startswith("  width-4 judge")]
    assert len(lines) == 2 and all("digits 0-9:" in line for line in lines)  # untranslated, then translated
    with pytest.raises(SystemExit):
        bench.main(["--smoke", "--seeds", "0", "--judge-width", "-1"])
    assert "--judge-width must be >= 0" in capsys.readouterr().err


def test_bench_09_smoke_runs_the_lesson_and_a_dcgan_of_its_size(monkeypatch, capsys, tmp_path):
    bench = bench_module("bench_09_style_based_gan")
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    assert bench.main(["--smoke", "--seeds", "0"]) == 0
    out = capsys.readouterr().out
    for text in ("seed 0: style-based FD", "| DCGAN FD", "mixes read as A/B by crossover 1:", "median over 1 seeds",
                 "targets: 10/10 classes:"):
        assert text in out, f"expected {text!r} in the benchmark's output"
    targets = out.split("targets:")[1]
    assert "towards w̄" in targets and "towards the nearest centre" in targets  # both truncation tables judged
    trades, one = bench.trades_variety_for_confidence, dict(confidence=0.96, classes=10, fd=12.0)
    assert trades(one, dict(confidence=0.97, classes=10, fd=30.0))      # more confident, a higher FD
    assert trades(one, dict(confidence=0.97, classes=9, fd=11.0))       # more confident, a class lost
    assert not trades(one, dict(confidence=0.95, classes=9, fd=50.0))   # less confident
    assert not trades(one, dict(confidence=0.97, classes=10, fd=11.0))  # nothing paid for it
    dcgan = bench.dcgan_of_size(64, 179_232)
    assert abs(sum(p.numel() for p in dcgan.parameters()) - 179_232) < 12_000
