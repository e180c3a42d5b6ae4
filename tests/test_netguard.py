"""The test session's network guard (tests/netguard.py) refuses every host but this machine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import netguard
import pytest

REMOTE_NAMES = ["example.com", "m.dw.com", "images.complex.com", "localhost.example.com"]


@pytest.mark.parametrize("host", REMOTE_NAMES)
def test_lookups_of_other_hosts_are_refused(host: str) -> None:
    for lookup in (lambda: socket.getaddrinfo(host, 443), lambda: socket.gethostbyname(host),
                   lambda: socket.gethostbyname_ex(host), lambda: socket.create_connection((host, 80), 1)):  # fmt: skip
        with pytest.raises(netguard.NetworkBlockedError, match="test network guard"):
            lookup()


@pytest.mark.parametrize("address", [("93.184.216.34", 80), ("8.8.8.8", 53), ("10.0.0.1", 22)])
def test_connections_and_datagrams_to_other_addresses_are_refused(address: tuple[str, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        with pytest.raises(netguard.NetworkBlockedError):
            tcp.connect(address)
        with pytest.raises(netguard.NetworkBlockedError):
            tcp.connect_ex(address)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(netguard.NetworkBlockedError):
        udp.sendto(b"\0" * 12, address)
    with (
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as tcp6,
        pytest.raises(netguard.NetworkBlockedError),
    ):
        tcp6.connect(("2001:db8::1", 80))


def test_this_machine_stays_reachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        accepting = threading.Thread(target=lambda: listener.accept()[0].close(), daemon=True)
        accepting.start()
        socket.create_connection(("localhost", port), 5).close()
        accepting.join(5)
        assert not accepting.is_alive()
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert socket.getaddrinfo(None, 80)
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "0.0.0.0"):
        assert netguard.is_local(host), host
    for host in ("example.com", "10.0.0.1", "::ffff:8.8.8.8", "127.0.0.1.example.com", "2001:db8::1", 42):
        assert not netguard.is_local(host), host


def test_child_python_processes_are_guarded_too() -> None:
    assert str(netguard.SITE_DIR) in os.environ["PYTHONPATH"].split(os.pathsep)
    code = "import socket; socket.getaddrinfo('example.com', 80)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "NetworkBlockedError" in done.stderr and "test network guard" in done.stderr
