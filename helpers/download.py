"""Downloads checked against recorded checksums: torch.hub's downloader (a progress bar, a temporary file
until the end), then every checksum given before the file is used."""
from __future__ import annotations

import hashlib
import socket
import urllib.error
import urllib.parse
from pathlib import Path

from torch.hub import download_url_to_file


def file_digest(path: str | Path, algorithm: str) -> str:
    """The hex digest ("md5", "sha256", …) of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def online(url: str) -> bool:
    """Can we open a TCP connection to the host of `url`? (Fails at once when DNS does.)"""
    parts = urllib.parse.urlparse(url)
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname, port), timeout=3.0):
            return True
    except OSError:
        return False


def _mismatch(path: Path, md5: str | None) -> str | None:
    """How `path` fails the MD5 `md5`, in words, or None when it matches or none is given."""
    if md5 is None or (got := file_digest(path, "md5")) == md5.lower():
        return None
    return f"MD5 {got} is not the expected {md5}"


def download(url: str, path: str | Path, md5: str | None = None, show_progress: bool = True) -> Path:
    """`url` saved at `path`, unless a file there verifies -> path. ConnectionError when offline or on an HTTP
    error; ValueError when a checksum differs (the file is kept as `<name>.bad`); no checksum: says so."""
    path = Path(path)
    if path.is_file() and _mismatch(path, md5) is None:
        return path
    if not online(url):
        raise ConnectionError(f"cannot reach {urllib.parse.urlparse(url).hostname} (offline?)")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        download_url_to_file(url, str(part), progress=show_progress)
    except urllib.error.HTTPError as error:
        raise ConnectionError(f"{url} answered HTTP {error.code}") from error
    problem = _mismatch(part, md5)
    if problem is not None:
        bad = path.with_name(path.name + ".bad")
        part.replace(bad)
        raise ValueError(f"{url}: {problem}; the file was kept as {bad} and not used")
    part.replace(path)
    if md5 is None:
        print(f"Downloaded {path.name}; no checksum is recorded for it, so it is NOT verified "
              f"(its MD5 is {file_digest(path, 'md5')}).")
    return path
