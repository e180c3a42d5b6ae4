"""Helpers shared by the GUI tests: PNG bytes and a tiny HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QColor, QImage


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


@dataclass(frozen=True)
class Stream:
    """A response body sent as `count` copies of `chunk`, with no Content-Length, `delay` s apart.

    chunked=False ends the body by closing the connection (HTTP/1.0 style); chunked=True uses HTTP/1.1
    chunked transfer encoding. A server that lies by omission, or drips a byte a second.
    """

    kind: str
    chunk: bytes
    count: int
    delay: float = 0.0
    chunked: bool = False


class Server:
    """A tiny HTTP server in a thread, counting hits per path (and bytes sent of each Stream body)."""

    def __init__(self, files: dict[str, tuple[str, bytes] | Stream]) -> None:
        self.files = files
        self.hits: dict[str, int] = {}
        self.sent: dict[str, int] = {}  # Stream path -> body bytes written
        self.dropped: set[str] = set()  # Stream paths whose client went away before the end
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.files:
                    self.send_error(404)
                    return
                entry = server.files[self.path]
                if isinstance(entry, Stream):
                    self.stream(entry)
                    return
                kind, body = entry
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def stream(self, stream: Stream) -> None:
                if stream.chunked:
                    self.protocol_version = "HTTP/1.1"
                self.send_response(200)
                self.send_header("Content-Type", stream.kind)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Transfer-Encoding" if stream.chunked else "Connection",
                                 "chunked" if stream.chunked else "close")  # fmt: skip
                self.end_headers()
                self.close_connection = True
                sent = 0
                try:
                    for _ in range(stream.count):
                        piece = stream.chunk
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if stream.chunked else piece)
                        sent += len(piece)
                        server.sent[self.path] = sent
                        if stream.delay:
                            time.sleep(stream.delay)
                    if stream.chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    server.dropped.add(self.path)

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


def card_id(store, path) -> int:  # type: ignore[no-untyped-def]
    """The library id of the card file at `path`."""
    found = store.card_id(path)
    assert found is not None, f"{path} is not in the library"
    return int(found)


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """(lines only in before, lines only in after), from a line diff."""
    import difflib

    old, new = before.decode("utf-8").splitlines(), after.decode("utf-8").splitlines()
    removed, added = [], []
    for line in difflib.ndiff(old, new):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added
