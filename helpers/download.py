"""Downloads, one way for every lesson: a resumable download checked against recorded checksums.

`download(url, path, md5=..., sha256=...)` fetches into `path` through `path.part` (resumed with an
HTTP Range request after an interruption), shows a progress bar, checks every checksum given, and
only then moves the file into place. A file that fails its checksum is kept as `path.bad` for
inspection and never used. `file_digest` is the one checksum function of the course.
"""
from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from helpers.training import progress

USER_AGENT = "gan-course/0.1 (teaching notebook)"


def file_digest(path: str | Path, algorithm: str = "sha256", show_progress: bool = False) -> str:
    """The hex digest ("md5", "sha256", …) of a file, read in 1 MiB blocks."""
    return _file_digests(path, (algorithm,), show_progress)[algorithm]


def _file_digests(path: str | Path, algorithms: tuple[str, ...], show_progress: bool) -> dict[str, str]:
    """{algorithm: hex digest} for each of `algorithms`, all from one read of the file."""
    path = Path(path)
    digests = {algorithm: hashlib.new(algorithm) for algorithm in algorithms}
    bar = progress(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"checking {path.name}",
                   disable=not show_progress)
    with open(path, "rb") as f, bar:
        for block in iter(lambda: f.read(1 << 20), b""):
            for digest in digests.values():
                digest.update(block)
            bar.update(len(block))
    return {algorithm: digest.hexdigest() for algorithm, digest in digests.items()}


def online(url: str, timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the host of `url`? (Fails at once when DNS does.)"""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _mismatch(path: Path, checksums: dict[str, str | None], show_progress: bool) -> str | None:
    """The first checksum that `path` fails, said in words, or None when all given ones match."""
    expected = {algorithm: value for algorithm, value in checksums.items() if value is not None}
    if not expected:
        return None
    got = _file_digests(path, tuple(expected), show_progress)  # one read for every checksum
    for algorithm, value in expected.items():
        if got[algorithm] != value.lower():
            return f"{algorithm.upper()} {got[algorithm]} is not the expected {value}"
    return None


def download(url: str, path: str | Path, md5: str | None = None, sha256: str | None = None,
             timeout: float = 30.0, show_progress: bool = True) -> Path:
    """`url` saved at `path` (kept and reused when it is already there and verifies) -> path.

    Raises ConnectionError when the host cannot be reached (at once when offline) or answers with
    an HTTP error, and ValueError when a checksum differs (the file is kept as `<name>.bad`). With no
    checksum given the file is used, and a printed line says it is not verified and gives its SHA-256.
    """
    path = Path(path)
    checksums = {"md5": md5, "sha256": sha256}
    if path.is_file() and _mismatch(path, checksums, show_progress) is None:
        return path
    if not online(url):
        raise ConnectionError(f"cannot reach {urllib.parse.urlparse(url).hostname} (offline?)")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   **({"Range": f"bytes={done}-"} if done else {})})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code != 416:  # 416: the .part already holds the whole file
            raise ConnectionError(f"{url} answered HTTP {error.code}") from error
        response = None
    if response is not None:
        with response:
            resumed = response.status == 206
            size = response.headers.get("Content-Length")
            total = (int(size) + (done if resumed else 0)) if size else None
            with open(part, "ab" if resumed else "wb") as f, progress(
                    total=total, initial=done if resumed else 0, unit="B", unit_scale=True,
                    desc=f"downloading {path.name}", disable=not show_progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    f.write(block)
                    bar.update(len(block))
    problem = _mismatch(part, checksums, show_progress)
    if problem is not None:
        bad = path.with_name(path.name + ".bad")
        part.replace(bad)
        raise ValueError(f"{url}: {problem}; the file was kept as {bad} and not used")
    part.replace(path)
    if md5 is None and sha256 is None:  # nothing pins it yet: print the SHA-256, so it can be recorded
        print(f"Downloaded {path.name}; no checksum is recorded for it, so it is NOT verified "
              f"(its SHA-256 is {file_digest(path)}).")
    return path
