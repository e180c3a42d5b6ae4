"""The library's storage backends: the only package in Curator that speaks SQL.

SQLite (embedded, one editor, the default) and PostgreSQL (a team's shared library, ``--db
postgresql://…``) sit behind one typed protocol; the Store, the importer, edits, checks, the GUI and the
CLI ask the Store, never a database. ``tests/test_layering.py`` fails on SQL outside this package.
"""
