"""pg_driver: psycopg imported without importlib.metadata, exactly as it would be, or the usual way.

Each check runs in a fresh interpreter (the test process has psycopg and importlib.metadata loaded
already): the versions psycopg and psycopg_binary report equal importlib.metadata's, the version modules
are the real files' (spec, ``__file__``), importlib.metadata and the email parser are never loaded by a
team library's `curator list`, whose output equals the one with the shortcut out of the way; a version
module Curator does not know, or a distribution search it cannot answer exactly, falls back to the plain
import; the distribution search itself agrees with importlib.metadata's on made-up folders.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from curator.core.backend import pg_driver
from curator.core.backend.pg_driver import _Declined, distribution_version

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_CARD = ROOT / "seeds" / "000_63d795e8c7832238.txt"

#: What a fresh interpreter reports after ``import curator.core.backend.postgres``.
_REPORT = """
import json, sys
import curator.core.backend.postgres
import psycopg, psycopg_binary
loaded = "importlib.metadata" in sys.modules
report = {
    "metadata_loaded": loaded, "email_loaded": "email" in sys.modules,
    "psycopg": psycopg.__version__, "binary": psycopg_binary.__version__,
    "version_file": psycopg.version.__file__, "version_spec": psycopg.version.__spec__.name,
    "binary_version_file": sys.modules["psycopg_binary.version"].__file__,
}
import importlib.metadata as metadata
report["metadata_psycopg"] = metadata.version("psycopg")
report["metadata_binary"] = metadata.version("psycopg-binary")
print(json.dumps(report))
"""


def _python(code: str, *args: str, path: list[str] | None = None) -> str:
    env_path = ":".join([*(path or []), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path, "HOME": str(Path.home())}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_versions_equal_importlib_metadatas_without_loading_it() -> None:
    report = json.loads(_python(_REPORT))
    assert report["metadata_loaded"] is False and report["email_loaded"] is False
    assert report["psycopg"] == report["metadata_psycopg"] == importlib.metadata.version("psycopg")
    assert report["binary"] == report["metadata_binary"]
    import psycopg

    assert report["version_file"] == psycopg.version.__file__ and report["version_spec"] == "psycopg.version"
    assert report["binary_version_file"].endswith("psycopg_binary/version.py")


def test_the_known_sources_are_the_installed_ones() -> None:
    """The shortcut applies to the psycopg this project installs (else the list pays 11 ms silently)."""
    import psycopg
    import psycopg_binary

    for package, module in (("psycopg", psycopg), ("psycopg_binary", psycopg_binary)):
        source = Path(module.__file__ or "").with_name("version.py").read_bytes()
        assert hashlib.sha256(source).hexdigest() in pg_driver.KNOWN_VERSION_SOURCES[package], package


def test_an_unknown_version_module_is_imported_the_usual_way(tmp_path: Path) -> None:
    """A psycopg whose version module differs (another release): plain import, metadata and all."""
    fake = tmp_path / "site"
    package = fake / "psycopg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .version import __version__\n")
    (package / "version.py").write_text(
        "from importlib import metadata\n__version__ = metadata.version('psycopg') + '+changed'\n"
    )
    code = textwrap.dedent("""
        import json, sys
        from curator.core.backend import pg_driver
        import psycopg
        print(json.dumps([psycopg.__version__, "importlib.metadata" in sys.modules, psycopg.__file__]))
    """)
    version, loaded, where = json.loads(_python(code, path=[str(fake)]))
    assert where == str(package / "__init__.py")  # the fake one was imported
    assert loaded is True and version == importlib.metadata.version("psycopg") + "+changed"


def _dist(folder: Path, name: str, version: str, *, kind: str = "dist-info") -> None:
    info = folder / f"{name}-{version}.{kind}"
    info.mkdir(parents=True)
    header = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nVersion: not this\n"
    (info / ("METADATA" if kind == "dist-info" else "PKG-INFO")).write_text(
        header.format(name=name, version=version)
    )


def _metadata_version(dist: str, path: list[str]) -> str:
    found = list(importlib.metadata.Distribution.discover(name=dist, path=path))
    return found[0].version if found else pg_driver.NOT_FOUND_VERSION


@pytest.mark.parametrize(
    ("installed", "dist"),
    [
        ([("psycopg_binary", "3.2.1", "dist-info")], "psycopg-binary"),
        ([("Psycopg.Binary", "3.2.2", "dist-info")], "psycopg-binary"),
        ([("psycopg", "3.1.0", "egg-info")], "psycopg"),
        ([("psycopg_pool", "3.2.0", "dist-info")], "psycopg"),  # another distribution: not found
        ([], "psycopg"),
    ],
)
def test_the_search_agrees_with_importlib_metadata(
    tmp_path: Path, installed: list[tuple[str, str, str]], dist: str
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    for name, version, kind in installed:
        _dist(first, name, version, kind=kind)
    _dist(second, dist.replace("-", "_"), "9.9.9")  # later on the path: never the answer when one comes first
    path = [str(tmp_path / "missing"), str(first), str(second)]
    assert distribution_version(dist, path) == _metadata_version(dist, path)


def test_what_the_search_cannot_answer_exactly_is_declined(tmp_path: Path) -> None:
    _dist(tmp_path / "two", "psycopg", "3.1.0")
    _dist(tmp_path / "two", "psycopg", "3.2.0")  # which one importlib.metadata takes depends on listdir
    archive = tmp_path / "lib.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "x.egg").mkdir()
    for path in ([str(tmp_path / "two")], [str(archive)], [str(tmp_path / "x.egg")]):
        with pytest.raises(_Declined):
            distribution_version("psycopg", path)


def test_a_team_list_loads_no_metadata_and_prints_the_same(pg_url: str) -> None:
    """Through the real console entry: the same output as with importlib.metadata loaded first (which
    turns the shortcut off), and importlib.metadata never loaded otherwise."""
    run = textwrap.dedent("""
        import json, os, runpy, sys
        if sys.argv[1] == "plain":
            import importlib.metadata
        sys.argv = ["curator", *json.loads(sys.argv[2])]
        def report(code):
            sys.stdout.flush()
            loaded = "importlib.metadata" in sys.modules
            sys.stderr.write("\\n" + json.dumps({"code": code, "metadata": loaded}))
            raise SystemExit(code)
        os._exit = report
        runpy.run_module("curator", run_name="__main__", alter_sys=True)
    """)
    from curator.cli import main

    assert main(["--db", pg_url, "import", str(EXAMPLE_CARD)]) == 0
    args = json.dumps(["--db", pg_url, "list", "--json", "police"])
    outs = {}
    for mode in ("quick", "plain"):
        done = subprocess.run([sys.executable, "-c", run, mode, args], capture_output=True, text=True,
                              cwd=ROOT, timeout=60, check=False)  # fmt: skip
        report = json.loads(done.stderr.splitlines()[-1])
        assert report == {"code": 0, "metadata": mode == "plain"}, done.stderr
        outs[mode] = done.stdout
    assert outs["quick"] == outs["plain"] and "police departments" in outs["quick"]
