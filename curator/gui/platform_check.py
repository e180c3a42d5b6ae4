"""Before Qt starts on X11: name the missing Debian packages instead of Qt's cryptic abort.

Pure Python, no Qt import: Qt aborts the whole process (it does not raise) when the xcb platform plugin
cannot load its libraries, so the check must happen before QApplication exists.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from curator.gui import resources

#: The one list of packages and the libraries they provide (also read by scripts/install-qt-deps).
PACKAGE_LIST = resources.folder() / "qt-debian-packages.txt"
EXIT_MISSING = 2


def read_packages(path: Path = PACKAGE_LIST) -> dict[str, list[str]]:
    """Package name -> the sonames it provides, from the list file (comments and blanks skipped)."""
    packages: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            packages[fields[0]] = fields[1:]
    return packages


def uses_xcb(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Qt will pick the xcb platform: Linux, DISPLAY set, no QT_QPA_PLATFORM override."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(":", 1)[0] == "xcb"
    # Qt prefers Wayland when a compositor is there; xcb is only the fallback then.
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def _ldconfig_sonames() -> set[str] | None:
    """Sonames the dynamic loader knows (from `ldconfig -p`), or None when ldconfig is unavailable."""
    exe = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.access(p, os.X_OK)), None
    )
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-p"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = set()
    for line in out.splitlines()[1:]:
        name = line.strip().split(" ", 1)[0]
        if name:
            names.add(name)
    return names


def _ldd_missing() -> set[str]:
    """Sonames `ldd` reports "not found" for PySide6's xcb plugin (the fallback without ldconfig)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.origin or not shutil.which("ldd"):
        return set()
    qt = Path(spec.origin).parent / "Qt"
    missing: set[str] = set()
    for lib in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"):
        if not lib.exists():
            continue
        try:
            out = subprocess.run(["ldd", str(lib)], check=False, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        missing.update(line.split()[0] for line in out.splitlines() if "not found" in line)
    return missing


def missing_packages(
    packages: dict[str, list[str]] | None = None, known: set[str] | None = None
) -> list[str]:
    """The packages of the list whose libraries the loader cannot find, in list order.

    Args:
        packages: package -> sonames (default: the bundled list).
        known: the sonames present (default: asked from ldconfig, else derived from ldd).
    """
    packages = read_packages() if packages is None else packages
    if known is None:
        known = _ldconfig_sonames()
    if known is None:
        absent = _ldd_missing()
        return [pkg for pkg, libs in packages.items() if absent.intersection(libs)]
    return [pkg for pkg, libs in packages.items() if not all(lib in known for lib in libs)]


def install_command(packages: list[str]) -> str:
    """The command line that installs `packages`."""
    return "apt-get install -y " + " ".join(packages)


def has_no_display(environ: Mapping[str, str] | None = None) -> bool:
    """Linux with no QT_QPA_PLATFORM override and neither an X11 nor a Wayland display to open."""
    env = os.environ if environ is None else environ
    return (sys.platform.startswith("linux") and not env.get("QT_QPA_PLATFORM", "").strip()
            and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"))


def check(environ: Mapping[str, str] | None = None) -> int | None:
    """Print the fix and return EXIT_MISSING when Qt could not start; None when it may.

    Qt aborts the process both when the xcb plugin lacks libraries and when there is no display at all.
    """
    if has_no_display(environ):
        print(
            "curator: no display to open the desktop app on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
            "Run it from a desktop session, or on a headless machine under a virtual screen:\n\n"
            '    xvfb-run -s "-screen 0 1600x1000x24" curator gui\n\n'
            "The command line works without a display: curator --help.",
            file=sys.stderr,
        )
        return EXIT_MISSING
    if not uses_xcb(environ):
        return None
    missing = missing_packages()
    if not missing:
        return None
    print(
        "curator: the desktop app needs system libraries that are not installed.\n"
        "Install them (as root) with:\n\n"
        f"    {install_command(missing)}\n\n"
        "or run scripts/install-qt-deps. (QT_QPA_PLATFORM=offscreen runs without a display.)",
        file=sys.stderr,
    )
    return EXIT_MISSING
