"""The CLI's subprocesses run under the test network guard (tests/netguard.py) as well."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_environment_refuses_other_hosts(curator) -> None:  # type: ignore[no-untyped-def]
    code = "import socket; socket.create_connection(('example.com', 80), 1)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=curator.env,
                          cwd=curator.cwd, timeout=60, check=False)  # fmt: skip
    assert done.returncode != 0
    assert "test network guard refused looking up 'example.com'" in done.stderr
