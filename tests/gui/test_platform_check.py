"""The xcb pre-flight check and scripts/install-qt-deps read one package list and name what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator.gui import platform_check

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-qt-deps"


def test_package_list_covers_the_xcb_plugin_libraries() -> None:
    packages = platform_check.read_packages()
    sonames = {lib for libs in packages.values() for lib in libs}
    # The ones Qt >= 6.5 refuses to start xcb without, and the ones a minimal Debian lacks most often.
    for lib in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-image.so.0",
                "libxcb-render-util.so.0", "libxcb-xkb.so.1", "libxkbcommon-x11.so.0", "libEGL.so.1",
                "libfontconfig.so.1", "libdbus-1.so.3"):  # fmt: skip
        assert lib in sonames
    assert packages["libxcb-cursor0"] == ["libxcb-cursor.so.0"]
    assert packages["libglib2.0-0"] == ["libglib-2.0.so.0", "libgthread-2.0.so.0"]


def test_missing_packages_follow_the_known_libraries() -> None:
    packages = {"libxcb-cursor0": ["libxcb-cursor.so.0"], "libglib2.0-0": ["libglib-2.0.so.0", "libgthread-2.0.so.0"],
                "libegl1": ["libEGL.so.1"]}  # fmt: skip
    known = {"libEGL.so.1", "libglib-2.0.so.0"}
    assert platform_check.missing_packages(packages, known) == ["libxcb-cursor0", "libglib2.0-0"]
    assert platform_check.missing_packages(packages, known | {"libxcb-cursor.so.0", "libgthread-2.0.so.0"}) == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, True),
        ({}, False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ],
)
def test_uses_xcb(env: dict[str, str], expected: bool) -> None:
    assert platform_check.uses_xcb(env) is expected


def test_check_prints_the_install_line_and_exits_2(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(platform_check, "missing_packages", lambda: ["libxcb-cursor0", "libxcb-icccm4"])
    assert platform_check.check({"DISPLAY": ":0"}) == platform_check.EXIT_MISSING
    err = capsys.readouterr().err
    assert "apt-get install -y libxcb-cursor0 libxcb-icccm4" in err
    # Offscreen (tests, CI) never checks.
    assert platform_check.check({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is None


def test_no_display_is_a_clear_error_not_a_qt_abort() -> None:
    """Without any display the app says how to run it, in a real child process, instead of Qt's abort."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "curator", "--db", "/nonexistent/never-created.sqlite", "gui"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == platform_check.EXIT_MISSING, done.stderr
    assert "no display" in done.stderr and "xvfb-run" in done.stderr
    assert "Aborted" not in done.stderr and "qt.qpa" not in done.stderr
    assert platform_check.has_no_display({}) is sys.platform.startswith("linux")
    assert not platform_check.has_no_display({"QT_QPA_PLATFORM": "offscreen"})
    assert not platform_check.has_no_display({"WAYLAND_DISPLAY": "wayland-0"})


def test_this_machine_has_what_the_list_names() -> None:
    """After scripts/install-qt-deps (CI runs it first) nothing on the list is missing."""
    if platform_check._ldconfig_sonames() is None:
        pytest.skip("no ldconfig here")
    assert platform_check.missing_packages() == []


def _fake_bin(tmp_path: Path, installed: bool) -> dict[str, str]:
    """A PATH with stand-ins for dpkg-query, apt-get and id that log their calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    status = "install ok installed" if installed else "unknown ok not-installed"
    scripts = {
        "dpkg-query": f'#!/bin/sh\nprintf "%s" "{status}"\n',
        "apt-get": f'#!/bin/sh\necho "apt-get $*" >> "{log}"\n',
        "id": "#!/bin/sh\necho 0\n",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_install_script_is_a_no_op_when_all_present(tmp_path: Path) -> None:
    env = _fake_bin(tmp_path, installed=True)
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "calls.log").exists()


def test_install_script_installs_exactly_the_list(tmp_path: Path) -> None:
    env = _fake_bin(tmp_path, installed=False)
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls[0] == "apt-get update -qq"
    installed = calls[1].split()
    assert installed[:4] == ["apt-get", "install", "-y", "-qq"]
    assert [p for p in installed if not p.startswith("-")][2:] == list(platform_check.read_packages())
