"""`curator` writing into a pipe whose reader stops early (`| head -1`): a quiet exit with status 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import Curator

# Three cards with long titles: `list` prints far more than a pipe holds (64 KiB on Linux), so the
# command is still writing when `head` has its line and closes the pipe.
TITLE_CHARS = 120_000


def _big_library(curator: Curator, tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    for n in range(3):
        (folder / f"long{n}.md").write_text(f"---\ntitle: {'Long title ' * (TITLE_CHARS // 11)}{n}\n---\n")
    assert curator("import", str(folder)).code == 0


def _through_head(curator: Curator, *args: str) -> tuple[int, str, str]:
    """``curator ARGS | head -1`` in a real shell pipeline: curator's status, head's output, its stderr."""
    argv = " ".join([sys.executable, "-m", "curator", "--db", str(curator.db), *args])
    script = f"set -o pipefail; {argv} 2>{curator.cwd / 'err.txt'} | head -1"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=curator.env,
                          cwd=curator.cwd, timeout=60, check=False)
    return done.returncode, done.stdout, (curator.cwd / "err.txt").read_text()


def test_list_into_head_exits_quietly_with_0(curator: Curator, tmp_path: Path) -> None:
    _big_library(curator, tmp_path)
    code, out, err = _through_head(curator, "list")
    assert (code, err) == (0, "")
    assert out.split() == ["ID", "QUAL", "HEAT", "PUB", "PUBLISHED", "AT", "PROVIDER", "TITLE"]
    code, out, err = _through_head(curator, "list", "--json")
    assert (code, err) == (0, "")
    assert out.startswith('{"id": ') and out.count("\n") == 1


def test_a_reader_gone_before_the_first_write_is_no_error(curator: Curator, tmp_path: Path) -> None:
    _big_library(curator, tmp_path)
    argv = [sys.executable, "-m", "curator", "--db", str(curator.db), "list", "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=curator.env,
                            cwd=curator.cwd)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads: the very first write fails with EPIPE
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert err == b""
