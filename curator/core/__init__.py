"""Curator's core: cards, the library, queries, edits and write-back. Imports no Qt."""
