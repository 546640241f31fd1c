import os
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAN_COURSE_DATA", str(ROOT / "data"))


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory) -> Path:
    """The session's smoke runs, laid out as `make run` lays out runs/ (NN_topic/executed.ipynb and summary.json):
    tests/test_notebooks.py copies each solution's run there, and tests/test_site.py builds the site from them."""
    return tmp_path_factory.mktemp("smoke_runs")
