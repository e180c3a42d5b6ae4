"""Finds Curator's bundled files (stylesheet, icons, the Debian package list): package data in curator/resources/.

They are located through importlib.resources, not relative to the source tree, so a wheel, a pipx install and
the PyInstaller bundle find them as a checkout does. No Qt here: the platform check reads the package list
before Qt may load.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib import resources as importlib_resources
from pathlib import Path

#: The package holding the data folder, and the folder's name inside it.
PACKAGE = "curator"
FOLDER = "resources"

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


@functools.cache
def folder() -> Path:
    """The real folder holding the bundled files.

    Every supported install keeps package data as plain files, so importlib.resources hands out a Path.
    Otherwise (an import from a zip) ``as_file`` makes a folder that lives as long as the process: the
    stylesheet's url()s point into it, so it must not vanish while the app runs.
    """
    traversable = importlib_resources.files(PACKAGE) / FOLDER
    if isinstance(traversable, Path):
        return traversable
    return _extracted.enter_context(importlib_resources.as_file(traversable))


def path(name: str) -> Path:
    """The path of a bundled file; raises FileNotFoundError when it is not there."""
    found = folder() / name
    if not found.is_file():
        raise FileNotFoundError(f"bundled resource missing: {found}")
    return found


def text(name: str) -> str:
    """A bundled text file's contents (UTF-8)."""
    return path(name).read_text(encoding="utf-8")


def stylesheet() -> str:
    """The application stylesheet (empty when the file is missing, so the app still starts).

    ``@RESOURCES@`` in it stands for the data folder: Qt resolves a stylesheet's url() against the working
    directory, not the stylesheet's own place.
    """
    try:
        return text("style.qss").replace("@RESOURCES@", folder().as_posix())
    except FileNotFoundError:
        return ""
