"""Every solution notebook: committed clean, its lesson in sync, and it runs with injected parameters.

Each solution is executed once in `make test`: by papermill, in smoke mode, in the lesson runner of
tests/conftest.py (a child process started at collection), with a parameter injected into its `parameters`
cell (to prove the cell is real and that a lesson honours what an instructor passes in); every cell must run
without error and the lesson must write its outputs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
REQUIRED_PARAMETERS = {"BATCH_SIZE", "SEED"}
# What each lesson must leave in runs/NN_topic/: file -> tensor shape (None in a shape: any
# size there, e.g. the image size a CPU run picks), or None for a file of any kind.
EXPECTED_OUTPUTS = {
    "01_harmonic_gan": {"samples.pt": (10000, 2), "checkpoint.pt": None, "training.png": None},
    "02_mnist_gan": {"samples.pt": (10000, 1, 28, 28), "generator.pt": None},
    "03_dcgan_celeba": {"samples.pt": (1000, 3, None, None), "generator.pt": None},
    "04_style_transfer": {"result.png": None, "losses.json": None},
    "05_gan_failures": {"results.json": None, "grid25_best.pt": (10000, 2),
                        **{f"{data}_{method}.pt": (10000, 2) for data in ("ring8", "grid25")
                           for method in ("gan", "wgan_gp", "spectral_norm", "ttur", "minibatch_std", "pacgan",
                                                          "pacgan_sn")}},
    "06_controlling_gans": {"results.json": None, "cgan_samples.pt": (10, 100, 1, 28, 28)},
    "07_vae_vs_gan": {"vae_samples.pt": (10000, 1, 28, 28), "vae.pt": None, "latent_map.png": None},
    "08_image_to_image": {"cyclegan_translated.pt": (1797, 1, 28, 28), "cyclegan_labels.pt": None,
                          "pix2pix_eval.json": None},
    "09_style_based_gan": {"stylegan_samples.pt": (10000, 1, 28, 28), "style_mixing.pt": None,
                           "truncation.json": None, "truncation_centres.json": None},
}
sys.path.insert(0, str(ROOT / "scripts"))
import make_lessons  # noqa: E402


def test_there_are_lessons():
    assert SOLUTIONS, "no solutions/NN_topic.ipynb found"
    assert {p.stem for p in SOLUTIONS} <= set(EXPECTED_OUTPUTS), "add the new lesson to EXPECTED_OUTPUTS"
    assert [p.name for p in LESSONS] == [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("path", SOLUTIONS + LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, f"{path.name}: cells {with_outputs} carry outputs; run `make lessons`"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_papermill_sees_every_parameter(path):
    """A comment papermill cannot parse (an `=` in it, say) hides that parameter from injection."""
    from papermill.translators import PythonTranslator
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    assigned = [line.split("=")[0].strip() for line in cell.source.splitlines()
                if "=" in line and not line.lstrip().startswith("#")]
    seen = [p.name for p in PythonTranslator.inspect(cell)]
    assert seen == assigned, f"{path.name}: papermill sees {seen}, the cell assigns {assigned}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_lesson_layout(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    assert "colab.research.google.com" in cells[0].source, "first cell: an Open in Colab badge"
    setup = next(c for c in cells if c.cell_type == "code")
    assert "google.colab" in setup.source and "pip install" in setup.source, \
        "first code cell: the Colab set-up that installs the course package"
    assert "report_setup(" in setup.source, \
        "the set-up cell reports versions and device, and says when to restart (helpers.runtime.report_setup)"
    assert "torch" not in setup.source.split("pip install", 1)[1].split("\n", 1)[0].replace("torch>=", ""), \
        "the set-up cell must not reinstall torch"
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"exactly one cell tagged 'parameters', found {len(tagged)}"
    params = cells[tagged[0]].source
    names = {line.split("=")[0].strip() for line in params.splitlines() if "=" in line and not line.startswith("#")}
    assert REQUIRED_PARAMETERS <= names and names & {"EPOCHS", "STEPS"}, \
        f"parameters cell needs EPOCHS or STEPS, BATCH_SIZE and SEED; has {sorted(names)}"
    assert "runtime.start(" in cells[tagged[0] + 1].source and "smoke=" in cells[tagged[0] + 1].source, \
        "the cell after `parameters` is one helpers.runtime.start(..., smoke=...) call: checks and smoke sizes"
    checks = sum("helpers.checks.check_" in c.source or "checks.check_" in c.source for c in cells)
    assert checks >= 3, f"{path.name} has {checks} check cells; each exercise needs one (at least 3)"


def test_lessons_in_sync():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_lessons.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_stub_replaces_solution_and_keeps_indentation():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\nprint(f)"
    out = make_lessons.stub_source(source, "cell")
    assert "return x + 1" not in out
    assert "    # YOUR CODE HERE\n    raise NotImplementedError" in out
    assert out.endswith("print(f)")


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1",
                                    "x = 1\n### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_solution_markers_are_errors(source):
    with pytest.raises(ValueError, match="SOLUTION"):
        make_lessons.stub_source(source, "cell 3")


def test_every_lesson_stub_raises():
    for lesson in LESSONS:
        nb = nbformat.read(lesson, as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        assert "### BEGIN SOLUTION" not in text, f"{lesson.name} leaks a solution"
        assert text.count("raise NotImplementedError") >= 3, f"{lesson.name} has fewer than 3 exercises"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_runs_with_injected_parameters(path, smoke_runs, lesson_runner):
    """Each lesson in a runs folder of its own, executed by tests/conftest.py's lesson runner (a child process
    that papermill-executes the solutions while the other tests run); its executed notebook and summary.json
    are then copied into the session's smoke_runs folder, where tests/test_site.py builds the site from them."""
    pytest.importorskip("papermill")
    folder = lesson_runner.wait(path)
    env_runs, out = folder / "runs", folder / path.name
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "SEED = 7" in injected[0].source
    summary = json.loads((env_runs / path.stem / "summary.json").read_text())
    assert summary["smoke"] is True and summary["headline"]
    assert summary["seed"] == 7, f"the lesson ran with SEED = {summary['seed']}, not the injected 7"
    import torch
    for name, shape in EXPECTED_OUTPUTS.get(path.stem, {}).items():
        written = env_runs / path.stem / name
        assert written.is_file(), f"{path.stem} did not write runs/{path.stem}/{name}"
        if shape is not None:
            tensor = torch.load(written, weights_only=True)
            same = len(tensor.shape) == len(shape) and all(s is None or s == t for s, t in zip(shape, tensor.shape))
            assert same and tensor.is_floating_point(), \
                f"runs/{path.stem}/{name}: expected a float tensor {shape}, got {tensor.dtype} {tuple(tensor.shape)}"
    (smoke_runs / path.stem).mkdir(exist_ok=True)  # only a lesson that passed: the site test reruns the others
    shutil.copy(out, smoke_runs / path.stem / "executed.ipynb")
    shutil.copy(env_runs / path.stem / "summary.json", smoke_runs / path.stem / "summary.json")


def test_make_run_writes_and_reads_the_same_runs_folder(tmp_path, monkeypatch, capsys):
    """`make run` (scripts/run_lessons.py's main, as the script calls it) with GAN_COURSE_RUNS set: the
    executed notebook goes where the lesson writes, and the table's metric column is the lesson's own headline."""
    pytest.importorskip("papermill")
    import run_lessons
    runs = tmp_path / "runs"
    monkeypatch.setenv("GAN_COURSE_RUNS", str(runs))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", os.environ.get("MPLBACKEND", "Agg"))  # main() drops it for the kernel
    monkeypatch.chdir(ROOT)
    status = run_lessons.main(["01"])
    out, err = capsys.readouterr()
    assert status == 0, out + err
    lesson = SOLUTIONS[0].stem
    assert (runs / lesson / "executed.ipynb").is_file()
    headline = json.loads((runs / lesson / "summary.json").read_text())["headline"]
    row = next(line for line in out.splitlines() if line.startswith(lesson))
    assert headline and headline in row, f"expected the headline {headline!r} in the table row {row!r}"


# A lesson's prose is short, asks questions with folded answers, and keeps the
# development log in benchmarks/INSTRUCTORS.md. Prose = whitespace-separated tokens of all
# markdown cells. A lesson whose prose is not yet rewritten is an expected failure, named here.
PROSE_LIMIT = 1800
DEVELOPMENT_LOG_MARKERS = ("bench_", "in our trials", "seeds 0", "EPYC", "Xeon")
PROSE_NOT_YET_REWRITTEN: dict[str, str] = {
}


def _prose_params():
    for path in SOLUTIONS:
        reason = PROSE_NOT_YET_REWRITTEN.get(path.stem)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", list(_prose_params()))
def test_prose_is_short_asks_questions_and_keeps_no_log(path):
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    tokens = sum(len(source.split()) for source in markdown)
    assert tokens <= PROSE_LIMIT, f"{path.name}: {tokens} words of prose, at most {PROSE_LIMIT}"
    text = "\n".join(markdown)
    folded = text.count("<details>")
    assert folded >= 2, f"{path.name}: {folded} questions with a folded <details> answer, need 2"
    found = [m for m in DEVELOPMENT_LOG_MARKERS if m.lower() in text.lower()]
    assert not found, f"{path.name}: development log in the prose ({found}); move it to benchmarks/INSTRUCTORS.md"
