import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# One thread per process: the lesson runner's kernels train on one core while the tests run on the other
# (two threads each on a 2-core machine would oversubscribe both, and OpenMP's spinning threads then stall).
# Set before torch is imported; the runner's kernels, the browser test's server and every subprocess inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

matplotlib.use("Agg")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAN_COURSE_DATA", str(ROOT / "data"))
SMOKE_TEST = "test_notebooks.py::test_runs_with_injected_parameters"
INJECTED = {"SEED": 7}
# The child that executes the lessons for tests/test_notebooks.py: one lesson after another, each by papermill
# with INJECTED in a kernel of its own, writing NN_topic/NN_topic.ipynb, NN_topic/runs/ and NN_topic/status.json.
RUNNER = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, os.path.join(sys.argv[1], "scripts"))
import papermill
from run_lessons import KERNEL_START_TIMEOUT  # also gives papermill its nbclient fix for Output widgets
root, parameters = Path(sys.argv[2]), json.loads(sys.argv[3])
for path in map(Path, sys.argv[4:]):
    folder = root / path.stem
    folder.mkdir(parents=True)
    os.environ["GAN_COURSE_RUNS"] = str(folder / "runs")
    try:
        papermill.execute_notebook(str(path), str(folder / path.name), parameters=parameters, cwd=str(path.parent),
                                   kernel_name="python3", progress_bar=False, start_timeout=KERNEL_START_TIMEOUT)
        status = {"error": None}
    except Exception as error:  # papermill's PapermillExecutionError carries the failing cell's traceback
        status = {"error": f"{type(error).__name__}: {error}"}
    (folder / "status.json").write_text(json.dumps(status))
"""


class LessonRunner:
    """The solutions tests/test_notebooks.py executes, run by one child process that starts when the session's
    tests are collected: the kernels then train on one core while the other tests run on the other."""

    def __init__(self, folder: Path, notebooks: list[Path]) -> None:
        self.folder = folder
        env = dict(os.environ, GAN_COURSE_SMOKE="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)])))
        env.pop("MPLBACKEND", None)  # the kernels' inline backend: the executed notebooks keep their figures
        env.pop("GAN_COURSE_RUNS", None)
        self.log = open(folder / "runner.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(ROOT), str(folder), json.dumps(INJECTED), *map(str, notebooks)],
            env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, path: Path) -> Path:
        """The lesson's folder once its run has ended; fails with the papermill error, or the child's log."""
        status = self.folder / path.stem / "status.json"
        while not status.is_file():
            if self.process.poll() is not None and not status.is_file():
                self.log.flush()
                pytest.fail(f"the lesson runner ended (exit {self.process.returncode}) before {path.name}:\n"
                            f"{(self.folder / 'runner.log').read_text()[-3000:]}")
            time.sleep(0.5)
        error = json.loads(status.read_text())["error"]
        if error:
            pytest.fail(f"{path.name} failed in papermill:\n{error}")
        return status.parent

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        self.log.close()


RUNNER_KEY = pytest.StashKey[LessonRunner]()


def pytest_collection_finish(session):
    """Start the lesson runner when this session runs test_notebooks.py's smoke tests (not otherwise)."""
    chosen = {item.callspec.params["path"] for item in session.items
              if item.nodeid.split("/")[-1].startswith(SMOKE_TEST) and hasattr(item, "callspec")}
    # the lessons that read digits with the course's judge last: on a fresh clone tests/test_02_mnist.py trains
    # and caches the judge meanwhile, so that a kernel does not train it a second time at the same moment
    chosen = sorted(chosen, key=lambda path: ("load_classifier(" in path.read_text(), path.name))
    if chosen and not session.config.option.collectonly:
        folder = session.config._tmp_path_factory.mktemp("lesson_runner")
        session.config.stash[RUNNER_KEY] = LessonRunner(folder, chosen)


def pytest_sessionfinish(session):
    runner = session.config.stash.get(RUNNER_KEY, None)
    if runner is not None:
        runner.stop()


@pytest.fixture(scope="session")
def lesson_runner(pytestconfig) -> LessonRunner:
    """The child executing the solutions for test_notebooks.py (started at collection; see pytest_collection_finish)."""
    return pytestconfig.stash[RUNNER_KEY]


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory) -> Path:
    """The session's smoke runs, laid out as `make run` lays out runs/ (NN_topic/executed.ipynb and summary.json):
    tests/test_notebooks.py copies each solution's run there, and tests/test_site.py builds the site from them."""
    return tmp_path_factory.mktemp("smoke_runs")
