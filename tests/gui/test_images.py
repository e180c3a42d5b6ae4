"""ImageCache against a real HTTP server on 127.0.0.1: loading, scaling, caching, and every broken state."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QSize
from PySide6.QtGui import QColor, QImage

from curator.gui.images import ImageCache, ImageState, decode, is_fetchable


def png_bytes(width: int, height: int, noisy: bool = False) -> bytes:
    if noisy:  # incompressible pixels make a big file (built from bytes: no per-pixel calls into Qt)
        import random

        pixels = random.Random(4).randbytes(width * height * 4)
        image = QImage(pixels, width, height, width * 4, QImage.Format.Format_RGB32).copy()
    else:
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("#3a7bd5"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


class Server:
    """A tiny HTTP server in a thread, counting hits per path."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        self.files = files
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.files:
                    self.send_error(404)
                    return
                kind, body = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server({
        "/wide.png": ("image/png", png_bytes(400, 200)),
        "/tall.png": ("image/png", png_bytes(100, 300)),
        "/big.png": ("image/png", png_bytes(120, 120, noisy=True)),
        "/notes.txt": ("text/plain", b"not an image at all"),
    })  # fmt: skip
    yield running
    running.stop()


def load(qtbot, cache: ImageCache, url: str, size: QSize):  # type: ignore[no-untyped-def]
    """Ask for `url` and wait until the cache reports it."""
    with qtbot.waitSignal(cache.changed, timeout=8000, check_params_cb=lambda u: u == url):
        state, placeholder = cache.get(url, size)
        assert state is ImageState.LOADING
        assert placeholder.size() == size
    return cache.get(url, size)


def test_loads_scales_and_caches(qtbot, server: Server, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache")
    url = server.url("/wide.png")
    state, pixmap = load(qtbot, cache, url, QSize(100, 100))
    assert state is ImageState.READY
    assert (pixmap.width(), pixmap.height()) == (100, 50)  # aspect ratio kept
    # Another size is scaled from the decoded image: no second download.
    state, pixmap = load(qtbot, cache, url, QSize(60, 60))
    assert (state, pixmap.width(), pixmap.height()) == (ImageState.READY, 60, 30)
    assert server.hits["/wide.png"] == 1
    assert cache.state(url) is ImageState.READY


def test_broken_states(qtbot, server: Server, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache", max_bytes=4000)
    for path, reason in (("/missing.png", "not found"), ("/notes.txt", "not a readable image"),
                         ("/big.png", "larger than 4000 bytes")):  # fmt: skip
        url = server.url(path)
        state, pixmap = load(qtbot, cache, url, QSize(80, 50))
        assert state is ImageState.BROKEN, path
        assert pixmap.size() == QSize(80, 50)
        assert reason in (cache.error(url) or "").lower(), (path, cache.error(url))
    # The broken picture differs from the loading placeholder.
    broken = cache.placeholder(QSize(80, 50), broken=True).toImage()
    loading = cache.placeholder(QSize(80, 50), broken=False).toImage()
    assert broken != loading


def test_server_down_is_broken_and_a_retry_is_possible(qtbot, server: Server, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache", timeout_ms=3000)
    url = server.url("/tall.png")
    server.stop()
    state, _ = load(qtbot, cache, url, QSize(50, 50))
    assert state is ImageState.BROKEN
    assert cache.error(url)
    cache.retry_broken()
    assert cache.state(url) is ImageState.LOADING


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/a.png",
                                 "//example.com/a.png", "", None])  # fmt: skip
def test_only_http_and_https_are_fetched(qapp, tmp_path: Path, url: str | None) -> None:
    cache = ImageCache(tmp_path / "cache")
    assert not is_fetchable(url)
    state, pixmap = cache.get(url, QSize(40, 30))
    assert state is ImageState.BROKEN
    assert pixmap.size() == QSize(40, 30)
    assert not cache._replies  # nothing was requested


def test_decode_rejects_garbage_and_fits_sizes() -> None:
    with pytest.raises(ValueError):
        decode(b"\x89PNG\r\n\x1a\n garbage", [(10, 10)])
    base, scaled = decode(png_bytes(2000, 1000), [(200, 200)])
    assert base.width() <= 960  # huge images are capped while decoding
    assert (scaled[(200, 200)].width(), scaled[(200, 200)].height()) == (200, 100)
