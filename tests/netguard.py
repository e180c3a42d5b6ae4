"""The test session's network guard: tests reach 127.0.0.1, ::1 and localhost, and nothing else.

Seed cards name real image hosts; without a guard every GUI test that shows a card would look them up
and try to download. Two layers, both installed by tests/conftest.py for the whole session:

- Python sockets: connect/connect_ex/sendto to a non-loopback address, and getaddrinfo/gethostbyname/
  gethostbyaddr of any name but a loopback one, raise NetworkBlockedError before anything leaves the
  process. Child Python processes get the same guard through netguard_site/sitecustomize.py on
  PYTHONPATH (it imports only the standard library, never Qt).
- Qt: an application proxy factory sends every request for a non-loopback host to a local trap (an HTTP
  proxy on 127.0.0.1 that records the request line and answers 403). With an HTTP proxy Qt neither
  resolves nor connects to the target host itself, so no DNS query and no connection leaves the machine;
  `TRAP.requests` proves where a request went.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The folder whose sitecustomize.py installs the socket guard in child Python processes.
SITE_DIR = Path(__file__).resolve().parent / "netguard_site"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkBlockedError(OSError):
    """A test tried to reach a host other than this machine."""


def is_local(host: object) -> bool:
    """True for loopback and unspecified addresses, the loopback names, and no host at all."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in ("", *LOOPBACK_NAMES) or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _refuse(what: str, host: object, port: object = None) -> NetworkBlockedError:
    where = f"{host!r}" if port is None else f"{host!r} port {port}"
    return NetworkBlockedError(
        f"the test network guard refused {what} {where}: tests may only reach 127.0.0.1, ::1 and localhost"
    )


def _check_address(sock: socket.socket, address: Any, what: str) -> None:
    inet = sock.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(address, tuple) and address and not is_local(address[0]):
        raise _refuse(what, address[0], address[1] if len(address) > 1 else None)


_installed: dict[str, Callable[..., Any]] = {}


def install_sockets() -> None:
    """Patch the socket module so that only loopback hosts can be resolved or reached (idempotent)."""
    if _installed:
        return
    real_connect, real_connect_ex, real_sendto = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
    )
    real_getaddrinfo = socket.getaddrinfo
    real_by_name, real_by_name_ex, real_by_addr = (
        socket.gethostbyname,
        socket.gethostbyname_ex,
        socket.gethostbyaddr,
    )
    _installed.update(connect=real_connect, connect_ex=real_connect_ex, sendto=real_sendto,
                      getaddrinfo=real_getaddrinfo, gethostbyname=real_by_name,
                      gethostbyname_ex=real_by_name_ex, gethostbyaddr=real_by_addr)  # fmt: skip

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(self, address, "a connection to")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(self, address, "a connection to")
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _check_address(self, args[-1] if args else None, "a datagram to")
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if not is_local(host):
            raise _refuse("looking up", host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    def guarded(real: Callable[..., Any], what: str) -> Callable[..., Any]:
        def lookup(host: Any) -> Any:
            if not is_local(host):
                raise _refuse(what, host)
            return real(host)

        lookup.__name__ = real.__name__
        return lookup

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.gethostbyname = guarded(real_by_name, "looking up")
    socket.gethostbyname_ex = guarded(real_by_name_ex, "looking up")
    socket.gethostbyaddr = guarded(real_by_addr, "a reverse lookup of")


class Trap:
    """An HTTP proxy on 127.0.0.1 that forwards nothing: it records each request line and answers 403."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, name="netguard-trap", daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _peer = self._sock.accept()
            with conn:
                conn.settimeout(5)
                try:
                    head = conn.recv(4096)
                    self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 403 Forbidden (test network guard)\r\n"
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")  # fmt: skip
                except OSError:
                    pass

    def hosts(self) -> list[str]:
        """The host each trapped request was for ("GET http://h/p ..." or "CONNECT h:443 ...")."""
        found = []
        for line in self.requests:
            parts = line.split()
            target = parts[1] if len(parts) > 1 else ""
            if "://" in target:
                target = target.split("://", 1)[1].split("/", 1)[0]
            found.append(target.rsplit(":", 1)[0] if target.count(":") == 1 else target)
        return found


TRAP: Trap | None = None
_factory: Any = None


def install_qt() -> Trap:
    """Route every Qt network request for a non-loopback host to the trap (idempotent); returns it."""
    global TRAP, _factory
    if TRAP is not None:
        return TRAP
    from PySide6.QtNetwork import QNetworkProxy, QNetworkProxyFactory

    trap = Trap()

    class LoopbackOnly(QNetworkProxyFactory):
        def queryProxy(self, query: Any = None) -> list[QNetworkProxy]:  # Qt's name
            host = (query.peerHostName() or query.url().host()) if query is not None else ""
            if is_local(host):
                return [QNetworkProxy(QNetworkProxy.ProxyType.NoProxy)]
            return [QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, "127.0.0.1", trap.port)]

    _factory = LoopbackOnly()  # kept referenced: Qt holds only a C++ pointer
    QNetworkProxyFactory.setApplicationProxyFactory(_factory)
    TRAP = trap
    return trap


def uninstall_qt() -> None:
    """Give Qt its default proxies back, while Python still runs (the test session's end calls it).

    setApplicationProxyFactory takes ownership: Qt deletes the factory when it is replaced, and again in
    its own static destructors at process exit. Left installed, the Python wrapper is torn down first at
    interpreter exit and Qt's exit-time delete then runs on freed memory (a segfault after the last test).
    Replacing it here makes Qt delete it now, which also tells the wrapper its C++ side is gone.
    """
    global TRAP, _factory
    if _factory is None:
        return
    from PySide6.QtNetwork import QNetworkProxyFactory

    QNetworkProxyFactory.setApplicationProxyFactory(None)
    _factory = None
    TRAP = None

