"""helpers.download: the course's one downloader, against a real HTTP server on this machine
(127.0.0.1): a whole download, checksums, HTTP errors and the offline path."""
from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from helpers import download as download_module
from helpers.download import download, file_digest

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at any path, honouring 'Range: bytes=N-' like a real file server."""

    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        RangeHandler.requests.append(self.headers.get("Range", ""))
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        if start >= len(PAYLOAD):
            self.send_response(416)
            self.end_headers()
            return
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server():
    RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/data.bin"
    httpd.shutdown()
    httpd.server_close()


def test_downloads_and_verifies_the_checksum(server, tmp_path):
    path = download(server, tmp_path / "data.bin", md5=MD5, show_progress=False)
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "data.bin.part").exists()
    assert download(server, path, md5=MD5, show_progress=False) == path
    assert RangeHandler.requests == [""], "a file already there that verifies is not fetched again"


def test_a_checksum_mismatch_keeps_the_file_aside_and_refuses_it(server, tmp_path):
    with pytest.raises(ValueError, match=f"MD5 {MD5} is not the expected 000"):
        download(server, tmp_path / "data.bin", md5="0" * 32, show_progress=False)
    assert not (tmp_path / "data.bin").exists() and (tmp_path / "data.bin.bad").read_bytes() == PAYLOAD


def test_a_damaged_file_on_disk_is_fetched_again(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(b"a truncated or corrupted copy")
    path = download(server, tmp_path / "data.bin", md5=MD5, show_progress=False)
    assert path.read_bytes() == PAYLOAD and RangeHandler.requests == [""]


def test_without_a_checksum_it_says_the_file_is_not_verified(server, tmp_path, capsys):
    download(server, tmp_path / "data.bin", show_progress=False)
    out = capsys.readouterr().out
    assert "NOT verified" in out and MD5 in out


def test_offline_fails_at_once_and_never_uses_an_unverified_file(monkeypatch, tmp_path):
    monkeypatch.setattr(download_module, "online", lambda url: False)
    (tmp_path / "x.zip").write_bytes(b"not the file we want")
    with pytest.raises(ConnectionError, match="offline"):
        download("https://example.org/x.zip", tmp_path / "x.zip", md5="0" * 32)


def test_an_http_error_is_a_connection_error(tmp_path):
    class NotFound(RangeHandler):
        def do_GET(self):  # noqa: N802
            self.send_error(404)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ConnectionError, match="HTTP 404"):
            download(f"http://127.0.0.1:{httpd.server_address[1]}/missing", tmp_path / "m", show_progress=False)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_file_digest_matches_hashlib(tmp_path):
    (tmp_path / "f").write_bytes(PAYLOAD)
    assert file_digest(tmp_path / "f", "md5") == MD5 and file_digest(tmp_path / "f", "sha256") == SHA256
