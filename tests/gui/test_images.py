"""ImageCache against a real HTTP server on 127.0.0.1: loading, scaling, caching, and every broken state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import Server, png_bytes
from PySide6.QtCore import QSize

from curator.gui.images import ImageCache, ImageState, decode, is_fetchable


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server({
        "/wide.png": ("image/png", png_bytes(400, 200)),
        "/tall.png": ("image/png", png_bytes(100, 300)),
        "/big.png": ("image/png", png_bytes(120, 120, noisy=True)),
        "/notes.txt": ("text/plain", b"not an image at all"),
        "/broken.png": ("image/png", png_bytes(40, 40)[:60]),
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
    for path, reason in (("/missing.png", "not found"), ("/notes.txt", "not a jpeg, png, webp or gif image"),
                         ("/broken.png", "not a readable png image"),
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
