"""Images are bounded in every dimension: format, pixels, bytes, time, threads, and hosts.

Real JPEG/PNG/WebP bytes come from Qt's writers, GIF and the 12000×12000 PNG are built by hand (Qt has no
GIF writer; the huge PNG is a valid solid-colour file of 420 KB that would need 576 MB decoded). The
servers run on 127.0.0.1: one drips a byte at a time, others send no Content-Length at all.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import netguard
import pytest
from gui_helpers import Server, Stream, png_bytes
from PySide6.QtCore import QBuffer, QIODevice, QSize, QThread, QThreadPool
from PySide6.QtGui import QColor, QImage, QImageWriter

from curator.gui import images as images_module
from curator.gui import workers
from curator.gui.images import Failure, ImageCache, ImageError, ImageState, decode, decode_slots, sniff

SEED_CARD = Path(__file__).resolve().parents[2] / "seeds" / "000_63d795e8c7832238.txt"


def encoded(fmt: str, width: int, height: int, *, progressive: bool = False) -> bytes:
    """`fmt` bytes of a width×height picture made by Qt's own writer."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#d53a7b"))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, fmt.encode())
    writer.setProgressiveScanWrite(progressive)
    assert writer.write(image), writer.errorString()
    return bytes(buffer.data().data())


def gif_bytes(width: int, height: int) -> bytes:
    """A valid two-colour GIF89a, LZW-coded without compression (a clear code every two pixels)."""
    codes: list[int] = []
    for i in range(width * height):
        if i % 2 == 0:
            codes.append(4)  # clear: the code width stays 3 bits
        codes.append(1 if (i // width + i % width) % 2 else 0)
    codes.append(5)  # end of information
    bits = 0
    for n, code in enumerate(codes):
        bits |= code << (3 * n)
    packed = bytearray(bits.to_bytes((3 * len(codes) + 7) // 8, "little"))
    blocks = b"".join(
        bytes([len(packed[i : i + 255])]) + packed[i : i + 255] for i in range(0, len(packed), 255)
    )
    return (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\xd5\x3a\x7b\xff\xff\xff"
        + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02" + blocks + b"\x00\x3b"
    )  # fmt: skip


def huge_png(width: int = 12000, height: int = 12000) -> bytes:
    """A valid 8-bit RGB PNG of width×height black pixels, built in a fraction of a second.

    Deflate blocks ended by a full flush hold no back-references, so one compressed block of 100 rows
    repeats; the zlib header and the Adler-32 of the whole raw image frame them.
    """
    row = b"\0" * (1 + 3 * width)  # filter byte 0, then RGB
    assert height % 100 == 0
    rows = row * 100
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = raw.compress(rows) + raw.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(height // 100):
        adler = zlib.adler32(rows, adler)
    data = b"\x78\xda" + block * (height // 100) + b"\x03\x00" + adler.to_bytes(4, "big")

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
       b' width="40" height="30"><image xlink:href="file:///etc/hostname" width="40" height="30"/></svg>')  # fmt: skip


@pytest.fixture(scope="module")
def big_png() -> bytes:
    return huge_png()


def load(qtbot, cache: ImageCache, url: str, size: QSize, timeout: int = 8000):  # type: ignore[no-untyped-def]
    """Ask for `url` and wait until the cache reports it; returns (state, pixmap)."""
    with qtbot.waitSignal(cache.changed, timeout=timeout, check_params_cb=lambda u: u == url):
        state, _ = cache.get(url, size)
        assert state is ImageState.LOADING
    return cache.get(url, size)


@pytest.fixture
def server(big_png: bytes) -> Iterator[Server]:
    running = Server({
        "/photo.jpg": ("image/jpeg", encoded("jpeg", 300, 150)),
        "/shot.png": ("image/png", encoded("png", 300, 150)),
        "/pic.webp": ("image/webp", encoded("webp", 300, 150)),
        "/anim.gif": ("image/gif", gif_bytes(30, 15)),
        "/drawing.svg": ("image/svg+xml", SVG),
        "/huge.png": ("image/png", big_png),
        "/drip.png": Stream("image/png", b"\x89", count=200, delay=0.1),
        "/endless": Stream("image/jpeg", b"\xff" * 65536, count=800),
        "/endless-chunked": Stream("image/jpeg", b"\xff" * 65536, count=800, chunked=True),
        "/chunked.png": Stream("image/png", encoded("png", 300, 150), count=1, chunked=True),
        **{f"/n{i}.png": ("image/png", png_bytes(200, 100 + i)) for i in range(8)},
    })  # fmt: skip
    yield running
    running.stop()


# -- formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/photo.jpg", "/shot.png", "/pic.webp", "/anim.gif", "/chunked.png"])
def test_the_four_formats_load(qtbot, server: Server, tmp_path: Path, path: str) -> None:
    cache = ImageCache(tmp_path / "cache")
    state, pixmap = load(qtbot, cache, server.url(path), QSize(100, 100))
    assert state is ImageState.READY, cache.error(server.url(path))
    assert (pixmap.width(), pixmap.height()) == (100, 50)  # the real picture, aspect ratio kept


def test_svg_is_refused_with_a_reason(qtbot, server: Server, tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache")
    url = server.url("/drawing.svg")
    state, _ = load(qtbot, cache, url, QSize(40, 30))
    assert state is ImageState.BROKEN
    assert cache.failure(url) is Failure.UNSUPPORTED
    assert "SVG drawings are never shown" in (cache.error(url) or "")


@pytest.mark.parametrize("fmt", ["bmp", "tiff", "xpm", "ppm", "ico", "svg", "svgz"])
def test_formats_qt_reads_but_curator_refuses(fmt: str) -> None:
    if fmt == "svg":
        data = SVG
    elif fmt == "svgz":
        data = zlib.compress(SVG, wbits=31)  # gzip
    else:
        data = encoded(fmt, 20, 10)
    with pytest.raises(ImageError) as refused:
        decode(data, [(10, 10)])
    assert refused.value.failure is Failure.UNSUPPORTED
    assert sniff(data) is None


def test_magic_bytes_of_the_four() -> None:
    assert sniff(encoded("jpeg", 4, 4)) == "jpeg"
    assert sniff(encoded("png", 4, 4)) == "png"
    assert sniff(encoded("webp", 4, 4)) == "webp"
    assert sniff(gif_bytes(4, 4)) == "gif"
    base, _ = decode(gif_bytes(6, 4), [])
    assert (base.width(), base.height()) == (6, 4)
    assert base.pixelColor(0, 0) == QColor("#d53a7b") and base.pixelColor(1, 0) == QColor("#ffffff")


# -- pixels -------------------------------------------------------------------------------------------


def test_a_huge_png_is_too_large_to_preview_not_unreadable(qtbot, server: Server, tmp_path: Path,
                                                           big_png: bytes) -> None:  # fmt: skip
    assert len(big_png) < 1_000_000  # small on the wire, 576 MB decoded
    cache = ImageCache(tmp_path / "cache")
    url = server.url("/huge.png")
    state, pixmap = load(qtbot, cache, url, QSize(80, 60))
    assert state is ImageState.BROKEN and pixmap.size() == QSize(80, 60)
    assert cache.failure(url) is Failure.TOO_LARGE
    assert cache.error(url) == "too large to preview (12000×12000)"
    with pytest.raises(ImageError) as refused:
        decode(big_png, [(80, 60)])
    assert refused.value.size == QSize(12000, 12000)


def test_a_progressive_jpeg_beyond_the_budget_is_too_large() -> None:
    # 5000×5000 progressive needs ~75 MB of coefficients (4:2:0): beyond the 64 MB budget, whatever scaling.
    data = encoded("jpeg", 5000, 5000, progressive=True)
    with pytest.raises(ImageError) as refused:
        decode(data, [(80, 60)])
    assert str(refused.value) == "too large to preview (5000×5000)"
    # The same picture as baseline JPEG decodes scaled while reading, so it is shown.
    base, scaled = decode(encoded("jpeg", 5000, 5000), [(80, 60)])
    assert (base.width(), base.height()) == (720, 720)
    assert scaled[(80, 60)].size() == QSize(60, 60)


def test_decode_memory_is_bounded(tmp_path: Path, big_png: bytes) -> None:
    """Peak memory of a child process that decodes the huge PNG and a big baseline JPEG stays small."""
    (tmp_path / "huge.png").write_bytes(big_png)
    (tmp_path / "big.jpg").write_bytes(encoded("jpeg", 6000, 4000))
    (tmp_path / "small.jpg").write_bytes(encoded("jpeg", 60, 40))
    (tmp_path / "small.png").write_bytes(encoded("png", 60, 40))
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from curator.gui.images import decode, ImageError\n"
        # Warm up both decoders, so that loading their libraries is not counted as decoding.
        "for name in ('small.jpg', 'small.png'):\n"
        "    decode(Path(sys.argv[1], name).read_bytes(), [(10, 10)])\n"
        "for name in ('huge.png', 'big.jpg'):\n"
        "    data = Path(sys.argv[1], name).read_bytes()\n"
        "    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    try:\n"
        "        image, _ = decode(data, [(80, 60)])\n"
        "        outcome = f'{image.width()}x{image.height()}'\n"
        "    except ImageError as exc:\n"
        "        outcome = str(exc)\n"
        "    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "    print(name, grown, outcome)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120,
                          check=False, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])})  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = {line.split()[0]: line.split(maxsplit=2)[1:] for line in done.stdout.splitlines()}
    assert results["huge.png"][1] == "too large to preview (12000×12000)"
    assert results["big.jpg"][1] == "960x640"
    for name, (grown_kb, _outcome) in results.items():
        assert int(grown_kb) < 32 * 1024, (name, grown_kb)  # far below one 64 MB budget


# -- bytes and time -----------------------------------------------------------------------------------


def test_a_drip_feed_ends_at_the_total_deadline(qtbot, server: Server, tmp_path: Path) -> None:
    # A byte every 0.1 s never trips the 3 s idle timeout; only the 1.5 s deadline stops it.
    cache = ImageCache(tmp_path / "cache", timeout_ms=3000, deadline_ms=1500)
    url = server.url("/drip.png")
    started = time.monotonic()
    state, _ = load(qtbot, cache, url, QSize(40, 30), timeout=10_000)
    elapsed = time.monotonic() - started
    assert state is ImageState.BROKEN
    assert cache.failure(url) is Failure.TIMED_OUT
    assert cache.error(url) == "the download took longer than 1.5 s"
    assert 1.4 < elapsed < 4.0, elapsed
    qtbot.waitUntil(lambda: "/drip.png" in server.dropped, timeout=5000)  # the server saw the hang-up
    assert server.sent["/drip.png"] < 60


@pytest.mark.parametrize("path", ["/endless", "/endless-chunked"])
def test_the_byte_cap_holds_without_content_length(qtbot, server: Server, tmp_path: Path, path: str) -> None:
    total = 800 * 65536  # 52 MB offered, no Content-Length
    cache = ImageCache(tmp_path / "cache", max_bytes=256 * 1024)
    url = server.url(path)
    state, _ = load(qtbot, cache, url, QSize(40, 30), timeout=10_000)
    assert state is ImageState.BROKEN
    assert cache.failure(url) is Failure.TOO_MANY_BYTES
    assert cache.error(url) == f"image larger than {256 * 1024} bytes"
    qtbot.waitUntil(lambda: path in server.dropped or server.sent.get(path) == total, timeout=5000)
    # What left the server before it noticed: the cap plus what the two sockets' buffers hold.
    assert server.sent[path] < 16 * 1024 * 1024 < total, server.sent[path]


# -- threads ------------------------------------------------------------------------------------------


def test_decodes_run_off_the_gui_thread_one_per_core(qtbot, server: Server, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    gui_thread = QThread.currentThread()
    lock = threading.Lock()
    running, peak, on_gui = [0], [0], []
    real_decode = images_module.decode

    def watched(data: bytes, sizes: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        on_gui.append(QThread.currentThread() == gui_thread)
        try:
            time.sleep(0.15)  # long enough for every queued decode to overlap if nothing bounds them
            return real_decode(data, sizes)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(images_module, "decode", watched)
    # Neither an inline default pool (tests' SyncPool) nor a roomy global pool may change where decodes run.
    workers.set_default_pool(workers.SyncPool())
    global_pool = QThreadPool.globalInstance()
    roomy, global_pool_max = 16, global_pool.maxThreadCount()
    global_pool.setMaxThreadCount(roomy)
    try:
        cache = ImageCache(tmp_path / "cache")
        urls = [server.url(f"/n{i}.png") for i in range(8)]
        pending = set(urls)
        cache.changed.connect(pending.discard)
        for url in urls:
            assert cache.get(url, QSize(50, 50))[0] is ImageState.LOADING
        qtbot.waitUntil(lambda: not pending, timeout=15_000)
    finally:
        workers.set_default_pool(None)
        global_pool.setMaxThreadCount(global_pool_max)
    assert all(cache.state(url) is ImageState.READY for url in urls)
    assert len(on_gui) == 8 and not any(on_gui)
    assert 1 <= peak[0] <= decode_slots() < roomy


# -- hosts --------------------------------------------------------------------------------------------


def test_a_seed_cards_real_image_host_is_never_reached(qtbot, tmp_path: Path) -> None:
    """The seed card's image URL goes to the session's local trap proxy: no lookup, no connection out."""
    url = re.search(r"^\s*- url: (https?://\S+)", SEED_CARD.read_text(encoding="utf-8"), re.MULTILINE)
    assert url is not None
    real = url.group(1)
    host = real.split("/")[2]
    assert not netguard.is_local(host)
    trap = netguard.install_qt()
    seen = len(trap.requests)
    cache = ImageCache(tmp_path / "cache")
    state, _ = load(qtbot, cache, real, QSize(40, 30))
    assert state is ImageState.BROKEN
    assert cache.failure(real) is Failure.UNAVAILABLE
    assert host in trap.hosts()[seen:], trap.requests[seen:]  # the request ended on 127.0.0.1
