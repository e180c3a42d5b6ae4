"""The bundled sample cards: copied to a folder of the user's before Curator opens them.

The source of truth is the checkout's ``seeds/`` (the generator's output, plus the reference card and the
``problems/`` demo). Installed copies (wheel, pipx, the desktop bundle) carry the cards as package data in
``curator/sample_cards/``, copied there at build time by setup.py with :func:`sample_files`, so git holds
them once. The app never imports them in place: a user's edits must land in a copy of their own, and an
installed package folder may not even be writable.

Stdlib only (setup.py loads this file on its own, before Curator's dependencies exist).
"""

from __future__ import annotations

import os
import shutil
from importlib import resources as importlib_resources
from pathlib import Path, PurePosixPath

#: The package-data folder (inside the ``curator`` package) holding the cards in an installed copy.
PACKAGE_FOLDER = "sample_cards"
#: Files of seeds/ that are not cards: the generator's code and its notes.
NOT_CARDS = ("README",)
NOT_CARD_SUFFIXES = (".py", ".pyc")


def is_sample(relative: PurePosixPath) -> bool:
    """Whether the file at `relative` (inside seeds/) is a sample card rather than the generator's own."""
    if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
        return False
    return relative.name not in NOT_CARDS and relative.suffix not in NOT_CARD_SUFFIXES


def sample_files(root: Path) -> list[PurePosixPath]:
    """The sample cards under `root`, as sorted paths relative to it."""
    found = (PurePosixPath(p.relative_to(root).as_posix()) for p in root.rglob("*") if p.is_file())
    return sorted(rel for rel in found if is_sample(rel))


def source() -> Path:
    """The folder the samples are copied from: the installed package data, else the checkout's seeds/.

    Raises FileNotFoundError when neither is there (a broken install).
    """
    installed = importlib_resources.files("curator") / PACKAGE_FOLDER
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    checkout = Path(__file__).resolve().parent.parent / "seeds"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bundled sample cards missing: neither {installed} nor {checkout} exists")


def copy_to(dest: Path) -> Path:
    """Copy every sample card into `dest` (created when missing), keeping the month folders; return `dest`.

    A card already at its place in `dest` is kept as it is: the user may have edited the copy. Each file
    is written to a hidden temporary name and renamed, so an interrupted copy never leaves half a card
    (the importer skips dotfiles). The copies are plain writable files, whatever the source's mode.
    """
    root = source()
    dest = Path(dest)
    for rel in sample_files(root):
        target = dest.joinpath(*rel.parts)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.copying")
        shutil.copyfile(root.joinpath(*rel.parts), partial)
        os.replace(partial, target)
    return dest
