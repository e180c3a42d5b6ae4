"""Importing psycopg without ``importlib.metadata``: ~11 ms of every `curator list` on a team library.

psycopg's and psycopg_binary's ``version`` modules are one line each, ``__version__ =
importlib.metadata.version(DIST)``, run at ``import psycopg``. Loading ``importlib.metadata`` (with the
``email`` parser, ``csv``, ``zipfile``'s path helpers) and searching every ``sys.path`` folder twice costs
about 11 ms of CPU, ~8% of a team library's `curator list` over Curator's own start-up, for a string
nothing in a read uses.

:func:`import_psycopg` answers that one line itself, before psycopg is imported: it reads the
distribution's ``Version`` the way ``importlib.metadata`` finds it (the first ``DIST-*.dist-info`` or
``.egg-info`` folder along ``sys.path``, its ``METADATA``/``PKG-INFO`` header), and puts a module built
from the real ``version.py``'s spec, holding that ``__version__``, in ``sys.modules`` where
``from .version import __version__`` finds it. Nothing else of psycopg changes: every other module is
imported and run whole, as usual.

Why it cannot silently break with another psycopg: it acts only when each ``version.py`` is
byte-for-byte one Curator knows (:data:`KNOWN_VERSION_SOURCES`, by SHA-256; a psycopg release whose
version module says anything else is imported as usual), and only where its search is exactly
``importlib.metadata``'s: no other import hook offering distributions, plain folders on ``sys.path``, one
candidate folder, a ``Version`` header. Anything else, or any error on the way, falls back to a plain
``import psycopg``. tests/core/backend/test_pg_driver.py checks that the versions equal
``importlib.metadata``'s and that a `curator list` on a team library never loads it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from importlib.machinery import PathFinder
from importlib.util import module_from_spec, spec_from_file_location
from types import ModuleType

#: SHA-256 of the ``version.py`` sources whose whole effect is ``__version__ = metadata.version(DIST)``
#: (or "0.0.0.0" when the distribution is not found), by package: psycopg 3.1.x-3.3.x's.
KNOWN_VERSION_SOURCES: dict[str, frozenset[str]] = {
    "psycopg": frozenset({"24b5a8a6b22c0b91d5725ca19fb2f355f56936d65853e5282d0c0018c1019587"}),
    "psycopg_binary": frozenset({"01c85c2d67e86b2f74da6acfde3d50cb79d0d85e503b3348bfc632d0d77016b7"}),
}
#: The distribution each package's version module asks ``importlib.metadata`` about.
DISTRIBUTIONS = {"psycopg": "psycopg", "psycopg_binary": "psycopg-binary"}
#: What those modules say when the distribution is not installed (their ``PackageNotFoundError`` branch).
NOT_FOUND_VERSION = "0.0.0.0"

_INFO_SUFFIXES = (".dist-info", ".egg-info")


class _Declined(Exception):
    """The shortcut does not apply here; psycopg is imported the usual way."""


def _normalized(name: str) -> str:
    """A distribution name as ``importlib.metadata`` compares them (its ``Prepared.normalize``)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def distribution_version(dist: str, path: list[str]) -> str:
    """The version ``importlib.metadata.version(dist)`` gives along ``path``; _Declined where unsure.

    Its search: each ``path`` entry in order, the first holding a ``NAME-VERSION.dist-info`` (or
    ``.egg-info``) folder whose normalized NAME is ``dist``'s; the version is that folder's ``METADATA``
    (``PKG-INFO``) ``Version`` header. Entries that are not folders hold no distribution unless they are
    zip files; those and eggs are left to ``importlib.metadata``.
    """
    wanted = _normalized(dist)
    for entry in path:
        folder = entry or "."
        if folder.lower().endswith(".egg"):
            raise _Declined(f"{folder} is an egg")  # its EGG-INFO is read another way
        if not os.path.isdir(folder):
            if os.path.exists(folder):  # a zip file or another archive importlib.metadata would look into
                raise _Declined(f"{folder} is not a folder")
            continue
        try:
            children = os.listdir(folder)
        except OSError:
            continue  # importlib.metadata skips a folder it cannot list too
        found = []
        for child in children:
            low = child.lower()
            if (
                low.endswith(_INFO_SUFFIXES)
                and _normalized(low.rpartition(".")[0].partition("-")[0]) == wanted
            ):
                found.append(os.path.join(folder, child))
        if not found:
            continue
        if len(found) > 1:
            raise _Declined(f"{folder} holds {len(found)} distributions of {dist}")
        info = found[0]
        name = "METADATA" if info.lower().endswith(".dist-info") else "PKG-INFO"
        try:
            with open(os.path.join(info, name), encoding="utf-8") as file:
                for line in file:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, sep, value = line.partition(":")
                    if sep and key == "Version":
                        return value.strip()
        except (OSError, UnicodeDecodeError) as err:
            raise _Declined(f"{info}: {err}") from None
        raise _Declined(f"{info} has no Version")
    return NOT_FOUND_VERSION


def version_modules(path: list[str]) -> dict[str, ModuleType]:
    """The ``PACKAGE.version`` modules to pre-load, built from the real files' specs; _Declined if unsure."""
    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            raise _Declined(f"{finder!r} offers distributions")  # importlib.metadata would ask it too
    modules: dict[str, ModuleType] = {}
    for package, dist in DISTRIBUTIONS.items():
        spec = PathFinder.find_spec(package, path)
        if spec is None or not spec.submodule_search_locations:
            if package == "psycopg":
                raise _Declined("psycopg is not a package on the path")
            continue  # no psycopg_binary: psycopg imports another implementation
        source = os.path.join(next(iter(spec.submodule_search_locations)), "version.py")
        try:
            with open(source, "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()
        except OSError as err:
            raise _Declined(f"{source}: {err}") from None
        if digest not in KNOWN_VERSION_SOURCES[package]:
            raise _Declined(f"{source} is not a version module Curator knows")
        module_spec = spec_from_file_location(f"{package}.version", source)
        assert module_spec is not None
        module = module_from_spec(module_spec)
        module.__version__ = distribution_version(dist, path)  # type: ignore[attr-defined]
        modules[module_spec.name] = module
    return modules


def import_psycopg() -> ModuleType:
    """``import psycopg``, its version modules answered without ``importlib.metadata`` where that is exact.

    Called by the team backend's modules before their own ``import psycopg``; the first call does the
    work, later ones find psycopg imported. When ``importlib.metadata`` is loaded already there is nothing
    to save, and psycopg is imported as usual.
    """
    if "psycopg" in sys.modules or "importlib.metadata" in sys.modules:
        import psycopg

        return psycopg
    try:
        modules = version_modules(sys.path)
    except (_Declined, OSError, ValueError):
        modules = {}
    added = [name for name in modules if name not in sys.modules]
    sys.modules.update({name: modules[name] for name in added})
    try:
        import psycopg
    except BaseException:
        for name in added:  # a failed import leaves no half-made modules behind
            if sys.modules.get(name) is modules[name]:
                del sys.modules[name]
        raise
    for name in added:  # as the import system binds a submodule it loads on its parent package
        parent = sys.modules.get(name.rpartition(".")[0])
        if parent is not None and not hasattr(parent, "version"):
            parent.version = modules[name]  # type: ignore[attr-defined]
    return psycopg


import_psycopg()  # the team backend's modules import this module first, then psycopg: already loaded
