"""Asynchronous image loading for thumbnails and previews; never blocks the GUI thread.

Downloads go through one QNetworkAccessManager with a QNetworkDiskCache in the user cache folder; only
http/https URLs are fetched, each with a transfer timeout and a size cap. Bytes are decoded and scaled by
QImageReader on a worker thread (QImage is thread-safe, QPixmap is not, so pixmaps are made on the GUI
thread). Scaled pixmaps live in an in-memory LRU. While an image loads, callers get a placeholder; a
failed one (offline, HTTP error, too large, not an image) gets a distinct "broken" picture.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QImage, QImageReader, QPainter, QPixmap
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkDiskCache, QNetworkReply, QNetworkRequest
from PySide6.QtSvg import QSvgRenderer

from curator.gui import resources
from curator.gui.workers import Pool, run_task

DEFAULT_TIMEOUT_MS = 15_000
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
#: Decoded images are capped to this box; the detail panel is the largest consumer.
BASE_SIZE = QSize(960, 720)
DISK_CACHE_BYTES = 200 * 1024 * 1024
_URL_PROPERTY = "curatorUrl"
# Refuse absurd dimensions before decoding (a 20000x20000 PNG is a few KB on the wire).
QImageReader.setAllocationLimit(256)


class ImageState(enum.Enum):
    LOADING = "loading"
    READY = "ready"
    BROKEN = "broken"


def is_fetchable(url: str | None) -> bool:
    """Only absolute http/https URLs with a host are ever requested."""
    if not url:
        return False
    parsed = QUrl(url)
    return parsed.isValid() and parsed.scheme() in ("http", "https") and bool(parsed.host())


def decode(data: bytes, sizes: list[tuple[int, int]]) -> tuple[QImage, dict[tuple[int, int], QImage]]:
    """Decode `data` (any format Qt reads) capped to BASE_SIZE, and scale it to fit each size.

    Raises ValueError when the bytes are not a readable image. Safe to call on any thread.
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > BASE_SIZE.width() or size.height() > BASE_SIZE.height()):
        # Let the decoder scale while reading (JPEG decodes at reduced size cheaply).
        reader.setScaledSize(size.scaled(BASE_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(reader.errorString() or "not an image")
    scaled = {
        (w, h): image.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        for w, h in sizes
    }
    return image, scaled


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
        max_bytes: int = DEFAULT_MAX_BYTES,
        capacity: int = 600,
        pool: Pool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        self.max_bytes = max_bytes
        self.pool = pool
        self.network = QNetworkAccessManager(self)
        # Qt deletes each reply after `finished`; a deleteLater of our own raced the manager's teardown.
        self.network.setAutoDeleteReplies(True)
        if cache_dir is None:
            from curator import paths

            cache_dir = paths.cache_dir() / "images"
        disk = QNetworkDiskCache(self)
        disk.setCacheDirectory(str(cache_dir))
        disk.setMaximumCacheSize(DISK_CACHE_BYTES)
        self.network.setCache(disk)
        self._pixmaps: _Lru = _Lru(capacity)  # (url, w, h) -> QPixmap
        self._bases: _Lru = _Lru(64)  # url -> decoded QImage, to scale to new sizes without a download
        self._wanted: dict[str, set[tuple[int, int]]] = {}  # url -> sizes asked for while in flight
        self._replies: dict[str, QNetworkReply] = {}
        self._broken: dict[str, str] = {}  # url -> reason
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

    def state(self, url: str | None) -> ImageState:
        """Where `url` stands: READY once any size of it is decoded."""
        if not is_fetchable(url) or url in self._broken:
            return ImageState.BROKEN
        if url in self._bases:
            return ImageState.READY
        return ImageState.LOADING

    def error(self, url: str) -> str | None:
        """Why `url` is broken, or None."""
        return self._broken.get(url) if is_fetchable(url) else "not an http/https address"

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
        self._replies[url] = reply
        # Bound slots, not lambdas: Qt drops them when this object dies, so a reply finishing during
        # teardown can never call into a half-destroyed cache.
        reply.metaDataChanged.connect(self._on_metadata)
        reply.downloadProgress.connect(self._on_progress)
        reply.finished.connect(self._on_finished)

    def _reply(self) -> tuple[str, QNetworkReply] | None:
        reply = self.sender()
        if not isinstance(reply, QNetworkReply):
            return None
        return str(reply.property(_URL_PROPERTY)), reply

    @Slot()
    def _on_metadata(self) -> None:
        found = self._reply()
        if found is None:
            return
        url, reply = found
        length = reply.header(QNetworkRequest.KnownHeaders.ContentLengthHeader)
        if length is not None and int(length) > self.max_bytes:
            self._abort(url, reply, f"image larger than {self.max_bytes} bytes")

    @Slot(int, int)
    def _on_progress(self, received: int, _total: int) -> None:
        # Servers may omit or lie about Content-Length: count what actually arrives.
        found = self._reply()
        if found is not None and received > self.max_bytes:
            self._abort(*found, f"image larger than {self.max_bytes} bytes")

    def _abort(self, url: str, reply: QNetworkReply, reason: str) -> None:
        if url not in self._broken:
            self._broken[url] = reason
        reply.abort()

    @Slot()
    def _on_finished(self) -> None:
        found = self._reply()
        if found is None:
            return
        url, reply = found
        self._replies.pop(url, None)
        if url in self._broken:  # aborted for size
            self._fail(url, self._broken[url])
            return
        if reply.error() != QNetworkReply.NetworkError.NoError:
            self._fail(url, reply.errorString())
            return
        data = bytes(reply.readAll().data())
        sizes = sorted(self._wanted.get(url, ()))
        run_task(
            lambda _progress, _cancelled: decode(data, sizes),
            on_done=lambda result: self._decoded(url, result),
            on_error=lambda exc: self._fail(url, f"not a readable image ({exc})"),
            pool=self.pool,
        )

    def _scale(self, url: str, base: QImage) -> None:
        sizes = sorted(self._wanted.get(url, ()))

        def work(_progress: object, _cancelled: object) -> tuple[QImage, dict[tuple[int, int], QImage]]:
            return base, {
                s: base.scaled(*s, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
                for s in sizes
            }

        run_task(work, on_done=lambda result: self._decoded(url, result), pool=self.pool)

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

    def _fail(self, url: str, reason: str) -> None:
        self._broken[url] = reason
        self._wanted.pop(url, None)
        self.changed.emit(url)
