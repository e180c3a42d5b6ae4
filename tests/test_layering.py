"""The core never imports Qt: a test, not a convention."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import curator.core


def test_core_imports_no_qt() -> None:
    modules = [f"curator.core.{m.name}" for m in pkgutil.iter_modules(curator.core.__path__)]
    assert "curator.core.schema" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qtawesome', 'qtpy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
