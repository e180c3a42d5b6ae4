"""Finds Curator's bundled files (stylesheet, icons, package lists) under resources/."""

from __future__ import annotations

from pathlib import Path

#: resources/ sits at the top of the repository, beside the curator package.
RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources"
#: The bundled sample cards, imported on a first start with an empty library.
SEEDS = RESOURCES.parent / "seeds"


def path(name: str) -> Path:
    """The path of a bundled file; raises FileNotFoundError when it is not there."""
    found = RESOURCES / name
    if not found.is_file():
        raise FileNotFoundError(f"bundled resource missing: {found}")
    return found


def text(name: str) -> str:
    """A bundled text file's contents (UTF-8)."""
    return path(name).read_text(encoding="utf-8")


def stylesheet() -> str:
    """The application stylesheet (empty when the file is missing, so the app still starts).

    ``@RESOURCES@`` in it stands for this folder: Qt resolves a stylesheet's url() against the working
    directory, not the stylesheet's own place.
    """
    try:
        return text("style.qss").replace("@RESOURCES@", RESOURCES.as_posix())
    except FileNotFoundError:
        return ""
