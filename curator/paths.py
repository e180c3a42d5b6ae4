"""Every place on disk Curator keeps its own data: one module decides them for the CLI and the GUI.

The library, the image cache, the log and the settings live in the user's per-platform folders
(platformdirs: XDG on Linux, ~/Library on macOS, %LOCALAPPDATA% on Windows), all under the one application
name ``Curator``, so ``curator import`` and the desktop app open the same library by default.
``$CURATOR_DB`` overrides the library for both faces; ``$CURATOR_HOME`` (tests, portable installs) moves
every folder below one directory.

No Qt here: the GUI's QSettings is pointed at :func:`settings_file` (an INI file on every platform, not the
registry or a plist) by the app at start-up, so this module names every file Curator keeps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curator.core.backend.location import Location

#: The one application name every folder is made under (also Qt's organisation/application name).
APPLICATION = "Curator"
#: The library file inside :func:`data_dir` when neither ``--db`` nor ``$CURATOR_DB`` names one.
LIBRARY_FILE = "library.sqlite"
#: The folder name the 0.1 command line used for its library (see :func:`default_library`).
LEGACY_CLI_APPLICATION = "curator"
#: The log file (tracebacks of Curator's own bugs) inside :func:`log_dir`.
LOG_FILE = "curator.log"


def _home_override() -> Path | None:
    home = os.environ.get("CURATOR_HOME")
    return Path(home).expanduser() if home else None


def relocated() -> bool:
    """Whether ``$CURATOR_HOME`` moves every folder below one directory (tests, portable copies)."""
    return _home_override() is not None


def _user_dir(kind: str, sub: str) -> Path:
    """platformdirs' ``user_<kind>_dir`` for Curator, or ``$CURATOR_HOME/<sub>`` when that is set."""
    home = _home_override()
    if home is not None:
        return home / sub
    import platformdirs  # here: `curator list` never needs a folder of its own

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APPLICATION, appauthor=False))


def data_dir() -> Path:
    """Where the default library (and the copied sample cards) live."""
    return _user_dir("data", "data")


def cache_dir() -> Path:
    """Disposable data: the image cache."""
    return _user_dir("cache", "cache")


def log_dir() -> Path:
    """Where :data:`LOG_FILE` is written."""
    return _user_dir("log", "log")


def config_dir() -> Path:
    """Where the GUI's settings file lives."""
    return _user_dir("config", "config")


def log_file() -> Path:
    """The log file's path (its folder may not exist yet)."""
    return log_dir() / LOG_FILE


def settings_file() -> Path:
    """The GUI's settings (an INI file, the same format on every platform)."""
    return config_dir() / "settings.ini"


def default_library() -> Path:
    """The library both faces open when none is given: ``$CURATOR_DB``, else data_dir()/library.sqlite.

    A library only the 0.1 command line made (it used the lower-case folder ``curator``, which differs from
    ``Curator`` on case-sensitive file systems) is used where it is, never moved: it may hold pending edits.
    """
    env = os.environ.get("CURATOR_DB")
    if env:
        return Path(env).expanduser()
    library = data_dir() / LIBRARY_FILE
    if library.exists() or _home_override() is not None:
        return library
    import platformdirs

    legacy = Path(platformdirs.user_data_dir(LEGACY_CLI_APPLICATION, appauthor=False)) / LIBRARY_FILE
    return legacy if legacy.is_file() else library


def library_to_open(explicit: str | os.PathLike[str] | None = None, last: str | None = None) -> Path | str:
    """The library the desktop app opens: `explicit` (``--db``), else ``$CURATOR_DB``, else `last` (the
    library the app used last) while that file still exists, else :func:`default_library`.

    A ``postgresql://`` URL (a team library) is returned as the text it is, for libpq (a Path would fold
    its ``//``); a last library that is a URL is always taken (whether the server answers is for the
    connection to say). Any other ``scheme://`` in `explicit` or ``$CURATOR_DB`` is a ValueError naming it;
    such a remembered `last` is passed over. A vanished last library file is not recreated empty at its
    old place: the app falls back to the default.
    """
    from curator.core.backend.location import parse_location  # no driver: the parser alone

    env = os.environ.get("CURATOR_DB")
    given = os.fspath(explicit) if explicit else env
    if given:
        where = parse_location(given)
        return where.url if where.is_postgresql and where.url else Path(given).expanduser()
    if last:
        remembered: Location | None
        try:
            remembered = parse_location(last)
        except ValueError:
            remembered = None
        if remembered is not None and remembered.is_postgresql and remembered.url:
            return remembered.url
        if remembered is not None and Path(last).expanduser().is_file():
            return Path(last).expanduser()
    return default_library()


def samples_dir() -> Path:
    """Where "Try the sample cards" copies the bundled samples to (the user's own, writable folder)."""
    return data_dir() / "sample-cards"
