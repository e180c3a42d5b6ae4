"""Installs the test network guard in every Python process the tests start (tests/netguard.py).

Only on PYTHONPATH while the tests run (tests/conftest.py puts it there); imports only the standard
library, so it never changes what a child process imports (the core must import no Qt).
"""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "netguard", Path(__file__).resolve().parent.parent / "netguard.py"
)
if _spec is not None and _spec.loader is not None:
    _guard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guard)
    _guard.install_sockets()
