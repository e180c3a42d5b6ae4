"""Pictures for the GUI benchmarks: a data set whose images are served, as real JPEG/PNG, from 127.0.0.1.

The GUI's figures (first paint, grid scrolling, memory) must include downloading and decoding images, so
the GUI benchmarks use a data set generated with ``image_base = http://images.bench.test`` (a reserved
top-level domain: it never resolves) and an :class:`ImageServer` on 127.0.0.1 that answers as that host's
HTTP proxy. The app is pointed at it the way a newsroom points it at its proxy (``http_proxy``, which Qt
honours); nothing else changes in the product, and no request can leave the machine: the server answers
only for the bench host and refuses every other one, and without the proxy the host does not resolve.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import harness

IMAGE_HOST = "images.bench.test"
IMAGE_BASE = f"http://{IMAGE_HOST}"


def dataset(n: int, seed: int = harness.SEED) -> Path:
    """:func:`harness.dataset` with every image URL under IMAGE_BASE (cached the same way, read-only)."""
    key = hashlib.sha256(IMAGE_BASE.encode()).hexdigest()[:6]
    target = harness.CACHE / f"cards-{n}-{seed}-{harness._generator_digest()}-img{key}"
    if (target / ".complete").exists():
        return target
    harness.CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".building-{n}-img-", dir=harness.CACHE))
    gen = harness._generator()
    gen.generate(building, gen.Options(seed=seed, count=n, image_base=IMAGE_BASE))
    (building / ".complete").write_text(f"{n} cards, seed {seed}, images under {IMAGE_BASE}\n")
    try:
        building.rename(target)  # atomic, as harness.dataset
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _pictures() -> list[tuple[str, bytes]]:
    """A dozen real pictures, as an article's lead image would be: 1200×675 JPEGs and 640×360 PNGs.

    Drawn with Qt (gradients, shapes and noise, so the encoders have work like a photo's); needs the
    QApplication the benchmark's ``qapp`` fixture makes.
    """
    import random

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    rng = random.Random(2020)
    out = []
    for i in range(12):
        kind, (w, h) = ("JPEG", (1200, 675)) if i % 3 else ("PNG", (640, 360))
        image = QImage(w, h, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        gradient = QLinearGradient(QPointF(0, 0), QPointF(w, h))
        gradient.setColorAt(0, QColor.fromHsv(rng.randrange(360), 120, 200))
        gradient.setColorAt(1, QColor.fromHsv(rng.randrange(360), 200, 90))
        painter.fillRect(QRectF(0, 0, w, h), gradient)
        for _ in range(60):
            painter.setBrush(QColor.fromHsv(rng.randrange(360), rng.randrange(256), rng.randrange(256), 160))
            painter.drawEllipse(
                QRectF(rng.randrange(w), rng.randrange(h), rng.randrange(20, 300), rng.randrange(20, 200))
            )
        painter.end()
        for _ in range(w * h // 100):  # grain
            image.setPixel(rng.randrange(w), rng.randrange(h), rng.randrange(1 << 24))
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        assert image.save(buffer, kind, 85), kind
        out.append(("image/jpeg" if kind == "JPEG" else "image/png", bytes(data.data())))
    return out


class ImageServer:
    """An HTTP proxy on 127.0.0.1 that serves IMAGE_HOST's pictures itself and refuses every other host."""

    def __init__(self) -> None:
        self.pictures = _pictures()
        self.served = 0
        self.refused = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name for it
                prefix = IMAGE_BASE + "/"
                if not self.path.startswith(prefix):  # another host, or not a proxy request: never forwarded
                    server.refused += 1
                    self.send_error(403, "only the bench image host is served")
                    return
                digest = hashlib.sha256(self.path.encode()).digest()
                kind, body = server.pictures[digest[0] % len(server.pictures)]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")  # every run downloads and decodes again
                self.end_headers()
                self.wfile.write(body)
                server.served += 1

            def log_message(self, *_args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The variables that point a Curator process (Qt's network stack) at this server."""
        return {"http_proxy": self.proxy, "HTTP_PROXY": self.proxy, "no_proxy": "", "NO_PROXY": ""}

    def start(self) -> ImageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serving() -> Iterator[ImageServer]:
    """An ImageServer for the block, with this process's environment pointing Qt at it."""
    from PySide6.QtNetwork import QNetworkProxy

    server = ImageServer().start()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    # In this process Qt keeps the proxy it first read from the environment: set this server's explicitly.
    previous = QNetworkProxy.applicationProxy()
    port = int(server.proxy.rsplit(":", 1)[1])
    QNetworkProxy.setApplicationProxy(QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, "127.0.0.1", port))
    try:
        yield server
    finally:
        QNetworkProxy.setApplicationProxy(previous)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def library(root: Path, n: int) -> Path:
    """A library over :func:`dataset` (imported once into ``root``; the tests only read it).

    Its checks index (duplicates, same story) is brought up to date, as the app's first session leaves it:
    the GUI figures are those of an editor's usual start, not of the one-off catch-up after a bulk import
    (at 100k a refresh on a worker for several seconds, which would weigh on every figure taken meanwhile).
    """
    from curator.core.importer import import_paths
    from curator.core.store import Store

    path = root / "library.sqlite"
    with Store(path) as store:
        report = import_paths(store, [str(dataset(n))])
        store.refresh_checks()
        assert not store.checks_stale()
    assert report.added == n
    return path


_LIBRARIES: dict[int, Path] = {}


def session_library(factory: object, n: int) -> Path:
    """:func:`library` made once per test session (``factory``: pytest's tmp_path_factory), whichever GUI
    benchmark module asks first."""
    if n not in _LIBRARIES:
        _LIBRARIES[n] = library(factory.mktemp("gui-library-ro"), n)  # type: ignore[attr-defined]
    return _LIBRARIES[n]
