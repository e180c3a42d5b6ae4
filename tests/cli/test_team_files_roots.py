"""The command line with a root map: `--map-root ORIGINAL=LOCAL` and `$CURATOR_ROOT_MAP`, both backends."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli.conftest import Curator


def _mounts(curator: Curator, tmp_path: Path) -> tuple[Path, Path]:
    mount_a, mount_b = tmp_path / "X" / "mountA", tmp_path / "X" / "mountB"
    (mount_a / "sub").mkdir(parents=True)
    (mount_a / "a.yaml").write_text("title: Alpha\nquality: 10\n", encoding="utf-8")
    (mount_a / "sub" / "b.md").write_text("---\ntitle: Beta\n---\n", encoding="utf-8")
    assert curator("import", str(mount_a)).code == 0
    shutil.copytree(mount_a, mount_b)
    return mount_a, mount_b


def test_list_show_set_write_and_rescan_on_mount_b(curator: Curator, tmp_path: Path) -> None:
    mount_a, mount_b = _mounts(curator, tmp_path)
    mapped = ("--map-root", f"{mount_a}={mount_b}")
    rows = curator(*mapped, "list", "--json").json_lines()
    assert sorted(r["path"] for r in rows) == [str(mount_b / "a.yaml"), str(mount_b / "sub" / "b.md")]
    alpha = next(r["id"] for r in rows if r["title"] == "Alpha")
    shown = curator(*mapped, "show", str(alpha), "--json")
    assert shown.code == 0 and shown.json()["path"] == str(mount_b / "a.yaml")
    assert curator(*mapped, "set", "--id", str(alpha), "quality=90").code == 0
    wrote = curator("write", "--json", *mapped)  # also after the command
    assert wrote.code == 0 and wrote.json()["written"] == 1, wrote.err
    assert (mount_b / "a.yaml").read_text(encoding="utf-8") == "title: Alpha\nquality: 90\n"
    assert (mount_a / "a.yaml").read_text(encoding="utf-8") == "title: Alpha\nquality: 10\n"
    rescan = curator(*mapped, "import", "--json", str(mount_b))
    assert rescan.code == 0 and rescan.json()["unchanged"] == 2 and rescan.json()["added"] == 0
    # Without the map the library's own (Ana's) paths are shown.
    plain = curator("list", "--json").json_lines()
    assert sorted(r["path"] for r in plain) == [str(mount_a / "a.yaml"), str(mount_a / "sub" / "b.md")]


def test_the_map_from_the_environment_by_root_id(curator: Curator, tmp_path: Path) -> None:
    _, mount_b = _mounts(curator, tmp_path)
    listed = curator("list", "--json", env={"CURATOR_ROOT_MAP": f"1={mount_b}"})
    assert sorted(r["path"] for r in listed.json_lines()) == [str(mount_b / "a.yaml"), str(mount_b / "sub" / "b.md")]
    # --map-root wins over the environment for the same root.
    other = tmp_path / "elsewhere"
    listed = curator("--map-root", f"1={other}", "list", "--json", env={"CURATOR_ROOT_MAP": f"1={mount_b}"})
    assert sorted(r["path"] for r in listed.json_lines()) == [str(other / "a.yaml"), str(other / "sub" / "b.md")]


def test_bad_maps_are_usage_errors(curator: Curator, tmp_path: Path) -> None:
    mount_a, _ = _mounts(curator, tmp_path)
    unknown = curator("--map-root", "7=/mnt/x", "list")
    assert unknown.code == 2
    assert unknown.err == f"curator: --map-root: no root '7' in this library (its roots: 1 mountA ({mount_a}))\n"
    malformed = curator("--map-root", "/Volumes/News", "list")
    assert malformed.code == 2 and "is not ORIGINAL=LOCAL" in malformed.err
    from_env = curator("list", env={"CURATOR_ROOT_MAP": "nothing-here"})
    assert from_env.code == 2 and from_env.err.startswith("curator: $CURATOR_ROOT_MAP: 'nothing-here' is not")
