"""Installing the course into Colab changes nothing that Colab ships.

tests/colab_snapshot.txt holds the versions preinstalled in Colab's GPU runtime (one dated
snapshot). The course package's dependencies must be there already, at versions inside the
package's ranges, so that `%pip install` in the set-up cell upgrades nothing. The one exception,
ADDED_IN_COLAB, is a small package Colab lacks whose own requirements Colab meets: pip adds it and
nothing else.
"""
from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "colab_snapshot.txt"


def read_snapshot(text: str) -> dict[str, Version]:
    """'name==version' lines (comments and blank lines skipped) -> {canonical name: Version}."""
    versions = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise ValueError(f"snapshot line {number}: expected 'name==version', got {line!r}")
        versions[canonicalize_name(name)] = Version(version.strip())
    return versions


def read_requirements(text: str) -> list[Requirement]:
    """A requirements.txt (comments, blank lines and '-r' includes skipped) -> its Requirements."""
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def unmet(requirements: list[Requirement], snapshot: dict[str, Version], must_be_there: bool) -> list[str]:
    """What installing `requirements` would change in the snapshot: an upgrade, or (with
    must_be_there) a package Colab does not have. One line per problem; empty when none."""
    problems = []
    for requirement in requirements:
        have = snapshot.get(canonicalize_name(requirement.name))
        if have is None:
            if must_be_there:
                problems.append(f"{requirement.name}: not preinstalled in Colab, so pip would add it")
        elif not requirement.specifier.contains(have, prereleases=True):
            problems.append(f"{requirement}: Colab has {have}, so pip would replace it")
    return problems


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE_REQUIREMENTS = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
DEV_REQUIREMENTS = read_requirements((ROOT / "requirements.txt").read_text())
COLAB = read_snapshot(SNAPSHOT.read_text())


def test_snapshot_is_dated_and_holds_the_packages_we_check():
    header = SNAPSHOT.read_text().splitlines()[:3]
    assert any("20" in line and "Source" in line for line in header), "say where and when the snapshot is from"
    assert {"python", "torch", "ipywidgets"} <= set(COLAB)


ADDED_IN_COLAB = {"pytorch-fid"}  # the FID's Inception network for lesson 03


def test_package_dependencies_are_all_preinstalled_in_colab_at_fitting_versions():
    kept = [r for r in PACKAGE_REQUIREMENTS if canonicalize_name(r.name) not in ADDED_IN_COLAB]
    assert unmet(kept, COLAB, must_be_there=True) == []
    assert ADDED_IN_COLAB <= {canonicalize_name(r.name) for r in PACKAGE_REQUIREMENTS}


@pytest.mark.parametrize("name", sorted(ADDED_IN_COLAB))
def test_an_added_dependency_brings_nothing_else_into_colab(name):
    """Its installed metadata's requirements (extras aside) must all be preinstalled, at fitting versions."""
    assert canonicalize_name(name) not in COLAB, f"{name} is in Colab now: drop it from ADDED_IN_COLAB"
    needs = [Requirement(line) for line in importlib.metadata.requires(name) or []]
    needs = [r for r in needs if r.marker is None or r.marker.evaluate({"extra": ""})]
    assert needs, f"{name} declares no requirements: check its metadata"
    assert unmet(needs, COLAB, must_be_there=True) == []


def test_requirements_txt_upgrades_nothing_colab_ships():
    """Test-only tools (JupyterLab, papermill, nbval, a browser driver) may be added, never upgraded."""
    assert unmet(DEV_REQUIREMENTS, COLAB, must_be_there=False) == []


def test_requirements_txt_repeats_the_package_ranges():
    """requirements.txt and pyproject.toml say the same range for each package dependency."""
    dev = {canonicalize_name(r.name): r.specifier for r in DEV_REQUIREMENTS}
    for requirement in PACKAGE_REQUIREMENTS:
        name = canonicalize_name(requirement.name)
        assert name in dev, f"{requirement.name} is a package dependency missing from requirements.txt"
        assert dev[name] == requirement.specifier, \
            f"{requirement.name}: pyproject says {requirement.specifier}, requirements.txt {dev[name]}"


def test_colab_python_is_allowed():
    allowed = PYPROJECT["project"]["requires-python"]
    assert Requirement(f"python{allowed}").specifier.contains(COLAB["python"]), \
        f"requires-python {allowed} excludes Colab's Python {COLAB['python']}"


def test_the_check_catches_an_upgrade_and_an_addition():
    """The checker itself: ipywidgets>=8 would upgrade Colab's 7.7.1; a package Colab lacks is flagged."""
    snapshot = read_snapshot("ipywidgets==7.7.1\ntorch==2.11.0+cu128\n")
    problems = unmet([Requirement("ipywidgets>=8.0"), Requirement("torch>=2.4"), Requirement("nbval>=0.11")],
                     snapshot, must_be_there=True)
    assert len(problems) == 2
    assert "ipywidgets>=8.0: Colab has 7.7.1" in problems[0] and "nbval" in problems[1]
    assert unmet([Requirement("torch>=2.12")], snapshot, must_be_there=False) == \
        ["torch>=2.12: Colab has 2.11.0+cu128, so pip would replace it"]


@pytest.mark.parametrize("line", ["ipywidgets 7.7.1", "==7.7.1", "torch=="])
def test_a_malformed_snapshot_line_names_the_line(line):
    with pytest.raises(ValueError, match="snapshot line 1: expected 'name==version'"):
        read_snapshot(line)
