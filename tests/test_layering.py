"""Layering, as tests rather than conventions: the core never imports Qt, and only the backend speaks SQL."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import curator
import curator.core


def test_core_imports_no_qt() -> None:
    modules = [f"curator.core.{m.name}" for m in pkgutil.iter_modules(curator.core.__path__)]
    assert "curator.core.schema" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qtawesome', 'qtpy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- only curator/core/backend/ speaks SQL ---------------------------------------------------------------
ROOT = Path(curator.__file__).resolve().parent
BACKEND = ROOT / "core" / "backend"
#: Modules that may import peewee without building a query: the package start-up (it imports peewee
#: early, without psycopg) and the table declarations (models bound to no database).
PEEWEE_DECLARATIONS = {ROOT / "__init__.py", ROOT / "core" / "schema.py"}
#: Drivers and query builders: importing one outside the backend is the first step to SQL there.
DRIVERS = ("sqlite3", "psycopg", "psycopg2", "peewee", "playhouse", "apsw")
#: Calls that run SQL or reach a raw connection, whatever object they are called on.
SQL_CALLS = {"execute_sql", "executemany", "executescript", "connection", "cursor", "execute", "raw",
             "set_trace_callback", "atomic", "bind_ctx"}  # fmt: skip
#: The peewee query-building methods of a model class.
QUERY_METHODS = {"select", "insert", "insert_many", "replace", "update", "delete", "create", "get",
                 "get_or_none", "get_by_id", "create_table", "drop_table", "bulk_create", "bulk_update"}  # fmt: skip
#: SQL statement text: a keyword with the structure that follows it (so "Select all" is no SQL).
SQL_TEXT = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\"?\w+\"?\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(TEMP\s+|TEMPORARY\s+|VIRTUAL\s+|UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b|\bPRAGMA\s+\w+"
    r"|\bALTER\s+TABLE\b|\bDROP\s+(TABLE|INDEX|VIEW)\b|\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b"
    r"|\bLISTEN\s+\w+|\bNOTIFY\s+\w+|\bCOPY\s+\w+\s+FROM\b"
)


def sql_violations(path: Path, source: str | None = None) -> list[str]:
    """What in one module outside the backend speaks SQL: 'path:line: what' for each finding."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, str(path))
    found: list[str] = []
    models: set[str] = set()

    def say(node: ast.AST, what: str) -> None:
        found.append(f"{path}:{getattr(node, 'lineno', 0)}: {what}")

    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DRIVERS and path not in PEEWEE_DECLARATIONS:
                    say(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in DRIVERS and path not in PEEWEE_DECLARATIONS:
                say(node, f"imports from {node.module}")
            if node.module == "curator.core.schema":
                models.update(a.asname or a.name for a in node.names if a.name[:1].isupper())
            if node.module.startswith("curator.core.backend.sqlite") or node.module.startswith(
                "curator.core.backend.pg"
            ):
                say(node, f"imports the concrete backend {node.module} (ask the Store or a Backend)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in SQL_CALLS:
                say(node, f"calls .{name}()")
            elif name in QUERY_METHODS and isinstance(node.func.value, ast.Name) and node.func.value.id in models:
                say(node, f"builds a query: {node.func.value.id}.{name}()")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in ("fn", "SQL") or (node.value.id == "peewee"):
                say(node, f"uses peewee's {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            match = SQL_TEXT.search(node.value)
            if match:
                say(node, f"holds SQL text {match.group(0)[:40]!r}")
    return found


def source_files() -> list[Path]:
    """Every module of Curator outside the backend package (the GUI and the CLI included)."""
    return sorted(p for p in ROOT.rglob("*.py") if BACKEND not in p.parents)


def test_only_the_backend_speaks_sql() -> None:
    files = source_files()
    assert ROOT / "cli" / "commands.py" in files and ROOT / "gui" / "library_tasks.py" in files
    assert ROOT / "core" / "store.py" in files and not [p for p in files if BACKEND in p.parents]
    found = [line for path in files for line in sql_violations(path)]
    assert found == [], "\n".join(found)


PLANTED = {
    "import sqlite3\n": "imports sqlite3",
    "from peewee import fn\n": "imports from peewee",
    "def f(store):\n    return store.db.execute_sql('SELECT 1')\n": "calls .execute_sql()",
    "def f(store):\n    return store.connection()\n": "calls .connection()",
    "def f(conn, rows):\n    conn.executemany('x', rows)\n": "calls .executemany()",
    "Q = 'SELECT id FROM card WHERE dirty = 1'\n": "holds SQL text",
    "Q = f'UPDATE card SET quality = {1} WHERE id = ?'\n": "holds SQL text",
    "Q = 'INSERT OR IGNORE INTO t VALUES (1)'\n": "holds SQL text",
    "Q = 'PRAGMA mmap_size = 0'\n": "holds SQL text",
    "def f(db):\n    with db.atomic():\n        pass\n": "calls .atomic()",
    "from curator.core.schema import Card\nrows = Card.select(Card.id)\n": "builds a query: Card.select()",
    "from curator.core.backend.sqlite import SqliteBackend\n": "imports the concrete backend",
    "def f(x):\n    return fn.COUNT(x)\n": "uses peewee's fn.COUNT",
}


@pytest.mark.parametrize("planted", list(PLANTED), ids=list(PLANTED.values()))
def test_the_sql_scan_catches_a_planted_violation(planted: str, tmp_path: Path) -> None:
    path = tmp_path / "planted.py"
    path.write_text(planted, encoding="utf-8")
    found = sql_violations(path)
    assert len(found) >= 1 and PLANTED[planted] in found[0], found


def test_the_sql_scan_leaves_plain_code_alone(tmp_path: Path) -> None:
    plain = (
        '"""Select all cards, then UPDATE the view: a docstring may say SELECT id FROM card."""\n'
        "LABEL = 'Select all matching cards'\n"
        "def f(store, ids):\n    return store.rows_by_id(ids), store.transaction()\n"
    )
    path = tmp_path / "plain.py"
    path.write_text(plain, encoding="utf-8")
    assert sql_violations(path) == []
