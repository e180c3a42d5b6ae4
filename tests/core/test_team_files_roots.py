"""Roots mapped per editor, on both backends: a library imported under mountA, used from mountB.

Ana imports /tmp/X/mountA; Ben has the same files at /tmp/X/mountB and opens the library with a root map.
He sees, writes and rescans his own files; the library keeps Ana's paths, so she sees hers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from curator.core import roots
from curator.core.importer import import_paths
from curator.core.roots import Root, RootMap, RootMapError
from curator.core.store import Store

CARDS = {
    "a.yaml": "title: Alpha\nquality: 10\n",
    "sub/b.md": "---\ntitle: Beta\ntopics: [One]\n---\nBody.\n",
    "sub/deeper/c.txt": "---\ntitle: Gamma\n---\n",
}


@pytest.fixture
def mounts(tmp_path: Path) -> tuple[Path, Path]:
    """mountA with three cards, and mountB: another machine's mount of the same shared folder."""
    mount_a, mount_b = tmp_path / "X" / "mountA", tmp_path / "X" / "mountB"
    for name, text in CARDS.items():
        (mount_a / name).parent.mkdir(parents=True, exist_ok=True)
        (mount_a / name).write_text(text, encoding="utf-8")
    return mount_a, mount_b


def _imported(library_url: str, mount_a: Path, mount_b: Path) -> None:
    with Store(library_url) as ana:
        assert import_paths(ana, [mount_a]).added == 3
        assert ana.roots() == [Root(1, str(mount_a), "mountA")]
    shutil.copytree(mount_a, mount_b)  # copy2: the same bytes and mtimes, as a second mount shows them


def _paths(store: Store) -> list[str]:
    return sorted(row.path for row in store.rows())


@pytest.mark.parametrize("key", ["path", "id", "label"])
def test_list_show_and_find_on_mount_b(library_url: str, mounts: tuple[Path, Path], key: str) -> None:
    mount_a, mount_b = mounts
    _imported(library_url, mount_a, mount_b)
    spec = {"path": str(mount_a), "id": "1", "label": "mountA"}[key]
    with Store(library_url, root_map={spec: str(mount_b)}) as ben:
        assert _paths(ben) == sorted(str(mount_b / n) for n in CARDS)
        card_id = ben.card_id(mount_b / "sub" / "b.md")
        assert card_id is not None
        detail = ben.detail(card_id)
        assert detail is not None and detail.path == str(mount_b / "sub" / "b.md")
        assert ben.card_folders() == sorted({str((mount_b / n).parent) for n in CARDS})
        assert sorted(ben.card_paths()) == sorted(str(mount_b / n) for n in CARDS)
        assert ben.local_root(ben.roots()[0]) == str(mount_b)
    with Store(library_url) as ana:  # the library itself holds Ana's paths
        assert _paths(ana) == sorted(str(mount_a / n) for n in CARDS)


def test_write_and_rescan_on_mount_b(library_url: str, mounts: tuple[Path, Path]) -> None:
    mount_a, mount_b = mounts
    _imported(library_url, mount_a, mount_b)
    with Store(library_url, root_map={str(mount_a): str(mount_b)}) as ben:
        alpha = ben.card_id(mount_b / "a.yaml")
        assert alpha is not None
        ben.set_fields([alpha], {"quality": 80}, label="Set quality")
        report = ben.write()
        assert (report.written, report.failed, report.conflicts) == (1, [], [])
        assert (mount_b / "a.yaml").read_text(encoding="utf-8") == "title: Alpha\nquality: 80\n"
        assert (mount_a / "a.yaml").read_text(encoding="utf-8") == CARDS["a.yaml"]  # Ana's copy untouched
        # A rescan of Ben's mount: nothing new, nothing vanished (the written card is known at its stamp).
        again = import_paths(ben, [mount_b])
        assert (again.added, again.updated, again.removed, again.failed) == (0, 0, 0, 0)
        assert again.unchanged == 3
        # New and vanished files on Ben's mount.
        (mount_b / "sub" / "new.yaml").write_text("title: New\n", encoding="utf-8")
        os.remove(mount_b / "sub" / "deeper" / "c.txt")
        changed = import_paths(ben, [mount_b / "sub"])
        assert (changed.added, changed.removed, changed.unchanged) == (1, 1, 1)
        assert _paths(ben) == sorted(str(mount_b / n) for n in ("a.yaml", "sub/b.md", "sub/new.yaml"))
        assert ben.roots() == [Root(1, str(mount_a), "mountA")]  # a folder inside the root adds no root
    with Store(library_url) as ana:
        assert _paths(ana) == sorted(str(mount_a / n) for n in ("a.yaml", "sub/b.md", "sub/new.yaml"))


def test_importing_the_original_place_while_mapped_is_refused(library_url: str, mounts: tuple[Path, Path]) -> None:
    mount_a, mount_b = mounts
    _imported(library_url, mount_a, mount_b)
    (mount_a / "only-at-a.yaml").write_text("title: Only at A\n", encoding="utf-8")
    with Store(library_url, root_map={"1": str(mount_b)}) as ben:
        report = import_paths(ben, [mount_a / "sub", mount_b])
        assert report.failed == 1 and report.unchanged == 3 and report.added == 0
        [error] = report.errors
        assert error["path"] == str(mount_a / "sub")
        assert error["message"] == f"inside the library's root {mount_a}, which this Curator maps to {mount_b}: " \
            "import it from there"  # fmt: skip
        assert ben.count() == 3


def test_a_second_root_and_unknown_roots(library_url: str, mounts: tuple[Path, Path], tmp_path: Path) -> None:
    mount_a, mount_b = mounts
    _imported(library_url, mount_a, mount_b)
    other = tmp_path / "elsewhere" / "mountA"  # the same last name: the label is made unique
    other.mkdir(parents=True)
    (other / "d.yaml").write_text("title: Delta\n", encoding="utf-8")
    with Store(library_url, root_map={"mountA": str(mount_b)}) as ben:
        assert import_paths(ben, [other]).added == 1
        assert ben.roots() == [Root(1, str(mount_a), "mountA"), Root(2, str(other), "mountA (2)")]
        assert ben.card_id(other / "d.yaml") is not None  # an unmapped root is where it was imported
    with pytest.raises(RootMapError, match=r"no root '7' in this library \(its roots: 1 mountA \("):
        Store(library_url, root_map={"7": str(mount_b)})


def test_identity_map_costs_nothing(library_url: str, mounts: tuple[Path, Path]) -> None:
    mount_a, mount_b = mounts
    _imported(library_url, mount_a, mount_b)
    with Store(library_url) as plain, Store(library_url, root_map={str(mount_a): str(mount_a)}) as same:
        assert type(same.backend) is type(plain.backend)  # no wrapper: the backend itself
        assert _paths(same) == _paths(plain)


def test_the_map_both_ways() -> None:
    m = RootMap([("/Volumes/News", "/mnt/news"), ("/Volumes/News/Archive", "/srv/archive")])
    assert m.to_local("/Volumes/News/2026/a.yaml") == "/mnt/news/2026/a.yaml"
    assert m.to_local("/Volumes/News/Archive/x.md") == "/srv/archive/x.md"  # the longest root wins
    assert m.to_local("/Volumes/NewsRoom/a.yaml") == "/Volumes/NewsRoom/a.yaml"  # whole components only
    assert m.to_local("/Volumes/News") == "/mnt/news"
    assert m.to_library("/mnt/news/2026/a.yaml") == "/Volumes/News/2026/a.yaml"
    assert m.to_library("/srv/archive/x.md") == "/Volumes/News/Archive/x.md"
    assert m.to_library("/mnt/newsy/a") == "/mnt/newsy/a"
    assert m.shadowed("/Volumes/News/2026") == ("/Volumes/News", "/mnt/news")
    assert m.shadowed("/mnt/news/2026") is None and m.shadowed("/home/ben") is None
    windows = RootMap([("C:\\News", "/mnt/news")])
    assert windows.to_local("C:\\News\\2026\\a.yaml") == "/mnt/news/2026/a.yaml"
    assert windows.to_library("/mnt/news/2026/a.yaml") == "C:\\News\\2026\\a.yaml"
    assert not RootMap([("/a", "/a/")])


def test_parse_entries_and_environment() -> None:
    assert roots.parse_entries(["/Volumes/News=/mnt/news", "2 = /srv/x"], "--map-root") == {
        "/Volumes/News": "/mnt/news", "2": "/srv/x"}  # fmt: skip
    with pytest.raises(RootMapError, match=r"--map-root: '/Volumes/News' is not ORIGINAL=LOCAL"):
        roots.parse_entries(["/Volumes/News"], "--map-root")
    env = {"CURATOR_ROOT_MAP": os.pathsep.join(["/Volumes/News=/mnt/news", "", "1=/srv/x"])}
    assert roots.from_environment(env) == {"/Volumes/News": "/mnt/news", "1": "/srv/x"}
    assert roots.from_environment({}) == {}


def test_a_linked_card_is_written_through_on_mount_b(library_url: str, mounts: tuple[Path, Path]) -> None:
    """Write-back writes through a link only into the imported roots: Ben's are his mount's."""
    mount_a, mount_b = mounts
    (mount_a / "sub" / "target.yaml").write_text("title: Target\n", encoding="utf-8")
    os.symlink(os.path.join("sub", "target.yaml"), mount_a / "link.yaml")  # relative: valid on both mounts
    with Store(library_url) as ana:
        assert import_paths(ana, [mount_a]).added == 5
    shutil.copytree(mount_a, mount_b, symlinks=True)
    with Store(library_url, root_map={"1": str(mount_b)}) as ben:
        linked = ben.card_id(mount_b / "link.yaml")
        assert linked is not None
        ben.set_fields([linked], {"title": "Through the link"}, label="Set title")
        report = ben.write()
        assert (report.written, report.failed) == (1, [])
    assert (mount_b / "sub" / "target.yaml").read_text(encoding="utf-8") == "title: Through the link\n"
    assert (mount_a / "sub" / "target.yaml").read_text(encoding="utf-8") == "title: Target\n"
