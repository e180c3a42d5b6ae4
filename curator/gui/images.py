"""Asynchronous image loading for thumbnails and previews; never blocks the GUI thread.

Image URLs come from card files, so every byte is untrusted. Downloads go through one QNetworkAccessManager
with a QNetworkDiskCache in the user cache folder; only http/https URLs are fetched, each with an idle
timeout, a total deadline (a server dripping one byte a second never holds a download open) and a byte
cap counted as bytes arrive (a server may omit or lie about Content-Length). Only JPEG, PNG, WebP and GIF
are decoded: the magic bytes and Qt's detected format must agree, so an SVG (which can pull local files)
or any other format Qt happens to read is refused. The dimensions are read before decoding and an image
whose decode would need more than DECODE_BUDGET_BYTES is refused as "too large to preview (W×H)"; JPEG
decodes scaled while reading, so only its decoder's working memory counts. Decodes run on the cache's own
pool of one thread per core (never on the GUI thread; QImage is thread-safe, QPixmap is not, so pixmaps
are made on the GUI thread). Scaled pixmaps live in an in-memory LRU. While an image loads, callers get a
placeholder; a failed one gets a distinct "broken" picture and `error(url)` says why.

While the app starts, downloads wait (`hold_downloads` ... `release_downloads`): Qt's first network request
loads the HTTP/TLS stack on the GUI thread (0.13-0.3 s measured at start-up), and no image is needed to
show the first page of rows, so the requests asked for before the first paint are sent just after it.
"""

from __future__ import annotations

import enum
import os
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    QRectF,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QImageReader, QPainter, QPixmap
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkDiskCache, QNetworkReply, QNetworkRequest
from PySide6.QtSvg import QSvgRenderer

from curator.gui import resources
from curator.gui.workers import Pool, run_task

MIB = 1024 * 1024
#: No byte for this long ends a download (Qt's transfer timeout).
DEFAULT_TIMEOUT_MS = 15_000
#: A download still running this long after it started is aborted, however steadily bytes trickle in.
DEFAULT_DEADLINE_MS = 30_000
DEFAULT_MAX_BYTES = 8 * MIB
#: Decoded images are capped to this box; the detail panel is the largest consumer.
BASE_SIZE = QSize(960, 720)
DISK_CACHE_BYTES = 200 * MIB
#: Qt's network thread buffers at most this much of a reply before it stops reading the socket (TCP then
#: stops the server): the body is taken out as it arrives, so a body without Content-Length is counted
#: while it streams instead of piling up in Qt's buffer.
READ_BUFFER_BYTES = 256 * 1024
#: The most memory one decode may use: the full raster for PNG/WebP/GIF (4 bytes a pixel, they cannot
#: scale while reading), the coefficient buffers of a progressive JPEG. 4096×4096 fits.
DECODE_BUDGET_BYTES = 64 * MIB
#: A baseline JPEG decodes at 1/8 scale in little memory, but the decoder still walks every pixel.
MAX_JPEG_PIXELS = 100_000_000
#: What Qt reads for us, by the name QImageReader.format() gives it.
FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF"}
_URL_PROPERTY = "curatorUrl"
# Qt's own ceiling for any one image allocation (and libjpeg's working memory): the budget, as a backstop
# for whatever the checks below do not foresee.
QImageReader.setAllocationLimit(DECODE_BUDGET_BYTES // MIB)


def decode_slots() -> int:
    """How many decodes may run at once: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# Bounds decodes across every ImageCache (and direct decode() calls), whatever pool runs them.
_DECODE_SLOTS = threading.BoundedSemaphore(decode_slots())


_held = False  # downloads wait for release_downloads() (the app's start-up, until its first paint)
_waiting: weakref.WeakSet[ImageCache] = weakref.WeakSet()  # caches holding requests back


def hold_downloads() -> None:
    """Make every ImageCache queue its downloads instead of sending them, until release_downloads().

    The app calls this before it builds the window: the first request loads Qt's network stack on the GUI
    thread, which would otherwise delay the first rows on screen by a tenth of a second or more.
    """
    global _held
    _held = True


def release_downloads() -> None:
    """Send the downloads queued since hold_downloads() (in the order asked), and every later one at once."""
    global _held
    _held = False
    for cache in list(_waiting):
        cache._send_queued()
    _waiting.clear()


def downloads_held() -> bool:
    """Whether downloads are being queued (between hold_downloads and release_downloads)."""
    return _held


class ImageState(enum.Enum):
    LOADING = "loading"
    READY = "ready"
    BROKEN = "broken"


class Failure(enum.Enum):
    """Why an image is BROKEN (`ImageCache.failure(url)`); `error(url)` has the sentence for the editor."""

    UNAVAILABLE = "unavailable"  # not an http/https address, offline, refused, an HTTP error
    TIMED_OUT = "timed out"  # the idle timeout or the total deadline
    TOO_MANY_BYTES = "too many bytes"  # more than max_bytes on the wire
    UNSUPPORTED = "unsupported"  # not JPEG/PNG/WebP/GIF (SVG among them)
    TOO_LARGE = "too large"  # dimensions beyond the decode budget
    UNREADABLE = "unreadable"  # claims a supported format but does not decode


class ImageError(ValueError):
    """A picture that is not shown, with the Failure kind and a sentence an editor understands."""

    def __init__(self, failure: Failure, reason: str, size: QSize | None = None) -> None:
        super().__init__(reason)
        self.failure = failure
        self.size = size


def is_fetchable(url: str | None) -> bool:
    """Only absolute http/https URLs with a host are ever requested."""
    if not url:
        return False
    parsed = QUrl(url)
    return parsed.isValid() and parsed.scheme() in ("http", "https") and bool(parsed.host())


def sniff(data: bytes) -> str | None:
    """The format the magic bytes announce ("jpeg", "png", "webp", "gif"), or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _unsupported(data: bytes) -> ImageError:
    head = data[:1024].lstrip().lower()
    looks_svg = b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head) or data[:2] == b"\x1f\x8b"
    extra = " (SVG drawings are never shown: they can load other files)" if looks_svg else ""
    return ImageError(Failure.UNSUPPORTED, f"not a JPEG, PNG, WebP or GIF image{extra}")


def _jpeg_progressive_bytes(data: bytes, size: QSize) -> int:
    """Working memory of a progressive JPEG's decoder (all DCT coefficients at 2 bytes), 0 for baseline.

    Reads the start-of-frame segment: progressive frames (SOF2/6/10/14) keep every coefficient of every
    component until the last scan, which no scaling avoids; libjpeg then needs about 2 bytes per sample.
    """
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return 0
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # stand-alone markers carry no length
            i += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before it
            return 0
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker not in (0xC2, 0xC6, 0xCA, 0xCE):
                return 0
            count = data[i + 9] if i + 9 < len(data) else 3
            factors = [data[i + 11 + 3 * c] for c in range(count) if i + 11 + 3 * c < len(data)]
            h_max = max((f >> 4 for f in factors), default=1) or 1
            v_max = max((f & 15 for f in factors), default=1) or 1
            samples = sum((f >> 4) * (f & 15) for f in factors) / (h_max * v_max) or count
            return int(size.width() * size.height() * samples * 2)
        i += 2 + length
    return 0


def _check_budget(kind: str, size: QSize, data: bytes) -> None:
    """Refuse, before any allocation, an image whose decode would not fit DECODE_BUDGET_BYTES."""
    pixels = size.width() * size.height()
    if kind == "jpeg":
        fits = pixels <= MAX_JPEG_PIXELS and _jpeg_progressive_bytes(data, size) <= DECODE_BUDGET_BYTES
    else:
        fits = pixels * 4 <= DECODE_BUDGET_BYTES
    if not fits:
        raise ImageError(Failure.TOO_LARGE, f"too large to preview ({size.width()}×{size.height()})", size)


def decode(data: bytes, sizes: list[tuple[int, int]]) -> tuple[QImage, dict[tuple[int, int], QImage]]:
    """Decode a JPEG/PNG/WebP/GIF capped to BASE_SIZE, and scale it to fit each size.

    Raises ImageError (a ValueError) for any other format, for dimensions beyond the decode budget and
    for bytes that do not decode. Safe to call on any thread; at most decode_slots() run at once.
    """
    kind = sniff(data)
    if kind is None:
        raise _unsupported(data)
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setDecideFormatFromContent(True)
    detected = bytes(reader.format().data()).decode("ascii", "replace").lower()
    if detected != kind:  # the bytes start like one format but Qt reads them as another
        raise _unsupported(data)
    reader.setAutoTransform(True)
    size = reader.size()
    if not size.isValid() or size.isEmpty():
        raise ImageError(Failure.UNREADABLE, f"not a readable {FORMATS[kind]} image (no dimensions)")
    _check_budget(kind, size, data)
    if size.width() > BASE_SIZE.width() or size.height() > BASE_SIZE.height():
        # JPEG decodes at reduced size while reading; the others decode whole (within the budget) first.
        reader.setScaledSize(size.scaled(BASE_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
    with _DECODE_SLOTS:
        image = reader.read()
        if image.isNull():
            raise ImageError(
                Failure.UNREADABLE, f"not a readable {FORMATS[kind]} image ({reader.errorString()})"
            )
        return image, _fit(image, sizes)


def _fit(image: QImage, sizes: list[tuple[int, int]]) -> dict[tuple[int, int], QImage]:
    return {
        (w, h): image.scaled(
            w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        for w, h in sizes
    }


class _Lru(OrderedDict):
    """A small least-recently-used map."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def touch(self, key: object) -> object | None:
        if key not in self:
            return None
        self.move_to_end(key)
        return self[key]

    def put(self, key: object, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


class ImageCache(QObject):
    """Hands out pixmaps by URL and size; emits `changed(url)` when one finishes loading or fails."""

    changed = Signal(str)

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        deadline_ms: int = DEFAULT_DEADLINE_MS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        capacity: int = 600,
        pool: Pool | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`pool` runs the decodes; by default the cache's own QThreadPool of decode_slots() threads.

        Decodes never go to workers' default pool: tests replace that by an inline SyncPool, which
        would decode on the GUI thread.
        """
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        self.deadline_ms = deadline_ms
        self.max_bytes = max_bytes
        if pool is None:
            own = QThreadPool(self)
            own.setMaxThreadCount(decode_slots())
            pool = own
        self.pool = pool
        self.network = QNetworkAccessManager(self)
        # Qt deletes each reply after `finished`; a deleteLater of our own raced the manager's teardown.
        self.network.setAutoDeleteReplies(True)
        if cache_dir is None:
            import platformdirs

            cache_dir = Path(platformdirs.user_cache_dir("Curator", appauthor=False)) / "images"
        disk = QNetworkDiskCache(self)
        disk.setCacheDirectory(str(cache_dir))
        disk.setMaximumCacheSize(DISK_CACHE_BYTES)
        self.network.setCache(disk)
        self._pixmaps: _Lru = _Lru(capacity)  # (url, w, h) -> QPixmap
        self._bases: _Lru = _Lru(64)  # url -> decoded QImage, to scale to new sizes without a download
        self._wanted: dict[str, set[tuple[int, int]]] = {}  # url -> sizes asked for while in flight
        self._replies: dict[str, QNetworkReply] = {}
        self._queued: list[str] = []  # asked for while downloads are held (see hold_downloads)
        self._bodies: dict[str, bytearray] = {}  # url -> bytes received so far
        self._broken: dict[str, tuple[Failure, str]] = {}  # url -> (kind, reason)
        self._placeholders: dict[tuple[str, int, int], QPixmap] = {}

    # -- asking -------------------------------------------------------------------------------------
    def get(self, url: str | None, size: QSize) -> tuple[ImageState, QPixmap]:
        """The pixmap for `url` fitted into `size`, or a placeholder (loading) / broken picture.

        Starts the download or the scaling when needed; `changed(url)` follows when done.
        """
        key = (size.width(), size.height())
        if not is_fetchable(url):
            return ImageState.BROKEN, self.placeholder(size, broken=True)
        assert url is not None
        pixmap = self._pixmaps.touch((url, *key))
        if pixmap is not None:
            return ImageState.READY, pixmap  # type: ignore[return-value]
        if url in self._broken:
            return ImageState.BROKEN, self.placeholder(size, broken=True)
        in_flight = url in self._wanted
        self._wanted.setdefault(url, set()).add(key)
        if not in_flight:
            base = self._bases.touch(url)
            if base is not None:
                self._scale(url, base)  # type: ignore[arg-type]
            else:
                self._download(url)
        return ImageState.LOADING, self.placeholder(size, broken=False)

    @property
    def loading(self) -> int:
        """How many images are downloading, queued (see hold_downloads) or decoding."""
        return len(self._wanted)

    def state(self, url: str | None) -> ImageState:
        """Where `url` stands: READY once any size of it is decoded."""
        if not is_fetchable(url) or url in self._broken:
            return ImageState.BROKEN
        if url in self._bases:
            return ImageState.READY
        return ImageState.LOADING

    def error(self, url: str | None) -> str | None:
        """Why `url` is broken, as a sentence for a tooltip ("too large to preview (12000×12000)"), or None."""
        if not is_fetchable(url):
            return "not an http/https address"
        found = self._broken.get(url)  # type: ignore[arg-type]
        return found[1] if found else None

    def failure(self, url: str | None) -> Failure | None:
        """What kind of failure made `url` BROKEN (e.g. Failure.TOO_LARGE), or None while it is not."""
        if not is_fetchable(url):
            return Failure.UNAVAILABLE
        found = self._broken.get(url)  # type: ignore[arg-type]
        return found[0] if found else None

    def retry_broken(self) -> None:
        """Forget failures so the next `get` tries again (after going back online)."""
        self._broken.clear()

    def placeholder(self, size: QSize, *, broken: bool) -> QPixmap:
        """The neutral "loading" picture or the "broken/offline" one, at `size`."""
        name = "broken.svg" if broken else "placeholder.svg"
        key = (name, size.width(), size.height())
        if key not in self._placeholders:
            # Exactly `size` (views lay out by it), with the picture centred at its own aspect ratio.
            pixmap = QPixmap(size)
            pixmap.fill(Qt.GlobalColor.transparent)
            renderer = QSvgRenderer(str(resources.path(name)))
            renderer.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
            painter = QPainter(pixmap)
            renderer.render(painter, QRectF(0, 0, size.width(), size.height()))
            painter.end()
            self._placeholders[key] = pixmap
        return self._placeholders[key]

    # -- loading ------------------------------------------------------------------------------------
    def _download(self, url: str) -> None:
        if _held:
            self._queued.append(url)
            _waiting.add(self)
            return
        self._send(url)

    def _send_queued(self) -> None:
        queued, self._queued = self._queued, []
        for url in queued:
            if url in self._wanted and url not in self._replies:  # still wanted, not sent meanwhile
                self._send(url)

    def _send(self, url: str) -> None:
        request = QNetworkRequest(QUrl(url))
        request.setTransferTimeout(self.timeout_ms)
        request.setAttribute(
            QNetworkRequest.Attribute.CacheLoadControlAttribute,
            QNetworkRequest.CacheLoadControl.PreferCache,
        )
        # Never follow a redirect from https down to http (or to another scheme).
        request.setAttribute(
            QNetworkRequest.Attribute.RedirectPolicyAttribute,
            QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy,
        )
        request.setHeader(QNetworkRequest.KnownHeaders.UserAgentHeader, "Curator (image preview)")
        reply = self.network.get(request)
        reply.setProperty(_URL_PROPERTY, url)
        reply.setReadBufferSize(READ_BUFFER_BYTES)
        self._replies[url] = reply
        self._bodies[url] = bytearray()
        # Bound slots, not lambdas: Qt drops them when this object dies, so a reply finishing during
        # teardown can never call into a half-destroyed cache.
        reply.metaDataChanged.connect(self._on_metadata)
        reply.readyRead.connect(self._on_ready_read)
        reply.finished.connect(self._on_finished)
        # The transfer timeout only notices silence; this one ends a download that never finishes. A child
        # of the reply, so it goes when Qt deletes the reply.
        deadline = QTimer(reply)
        deadline.setSingleShot(True)
        deadline.timeout.connect(self._on_deadline)
        deadline.start(self.deadline_ms)

    def _reply(self) -> tuple[str, QNetworkReply] | None:
        reply = self.sender()
        if not isinstance(reply, QNetworkReply):
            return None
        return str(reply.property(_URL_PROPERTY)), reply

    @Slot()
    def _on_deadline(self) -> None:
        timer = self.sender()
        reply = timer.parent() if isinstance(timer, QTimer) else None
        if not isinstance(reply, QNetworkReply):
            return
        url = str(reply.property(_URL_PROPERTY))
        if self._replies.get(url) is reply and reply.isRunning():
            seconds = f"{self.deadline_ms / 1000:g}"
            self._abort(url, reply, Failure.TIMED_OUT, f"the download took longer than {seconds} s")

    @Slot()
    def _on_metadata(self) -> None:
        found = self._reply()
        if found is None:
            return
        url, reply = found
        length = reply.header(QNetworkRequest.KnownHeaders.ContentLengthHeader)
        if length is not None and int(length) > self.max_bytes:
            self._abort(url, reply, Failure.TOO_MANY_BYTES, f"image larger than {self.max_bytes} bytes")

    @Slot()
    def _on_ready_read(self) -> None:
        # Servers may omit or lie about Content-Length: count what actually arrives.
        found = self._reply()
        if found is None:
            return
        url, reply = found
        body = self._bodies.get(url)
        if body is None or self._replies.get(url) is not reply:
            return
        body += reply.read(self.max_bytes + 1 - len(body)).data()
        if len(body) > self.max_bytes:
            self._abort(url, reply, Failure.TOO_MANY_BYTES, f"image larger than {self.max_bytes} bytes")

    def _abort(self, url: str, reply: QNetworkReply, failure: Failure, reason: str) -> None:
        if url not in self._broken:
            self._broken[url] = (failure, reason)
        reply.abort()

    @Slot()
    def _on_finished(self) -> None:
        found = self._reply()
        if found is None:
            return
        url, reply = found
        body = b""
        if self._replies.get(url) is reply:
            self._replies.pop(url)
            body = self._bodies.pop(url, bytearray())
        if url in self._broken:  # aborted for size or time
            self._fail(url, *self._broken[url])
            return
        error = reply.error()
        if error != QNetworkReply.NetworkError.NoError:
            timed_out = error == QNetworkReply.NetworkError.OperationCanceledError  # the transfer timeout
            self._fail(url, Failure.TIMED_OUT if timed_out else Failure.UNAVAILABLE, reply.errorString())
            return
        body += reply.read(self.max_bytes + 1 - len(body)).data()
        if len(body) > self.max_bytes or reply.bytesAvailable():
            self._fail(url, Failure.TOO_MANY_BYTES, f"image larger than {self.max_bytes} bytes")
            return
        data = bytes(body)
        sizes = sorted(self._wanted.get(url, ()))
        run_task(
            lambda _progress, _cancelled: decode(data, sizes),
            on_done=lambda result: self._decoded(url, result),
            on_error=lambda exc: self._failed_decode(url, exc),
            pool=self.pool,
        )

    def _failed_decode(self, url: str, exc: BaseException) -> None:
        if isinstance(exc, ImageError):
            self._fail(url, exc.failure, str(exc))
        else:
            self._fail(url, Failure.UNREADABLE, f"not a readable image ({exc})")

    def _scale(self, url: str, base: QImage) -> None:
        sizes = sorted(self._wanted.get(url, ()))
        run_task(lambda _progress, _cancelled: (base, _fit(base, sizes)),
                 on_done=lambda result: self._decoded(url, result), pool=self.pool)  # fmt: skip

    def _decoded(self, url: str, result: tuple[QImage, dict[tuple[int, int], QImage]]) -> None:
        base, scaled = result
        self._bases.put(url, base)
        for (w, h), image in scaled.items():
            self._pixmaps.put((url, w, h), QPixmap.fromImage(image))
        wanted = self._wanted.pop(url, set())
        missed = wanted - set(scaled)
        if missed:  # sizes asked for while decoding: scale those too
            self._wanted[url] = missed
            self._scale(url, base)
        self.changed.emit(url)

    def _fail(self, url: str, failure: Failure, reason: str) -> None:
        self._broken[url] = (failure, reason)
        self._wanted.pop(url, None)
        self.changed.emit(url)
