"""Curator's desktop app: the only package that imports PySide6 or qtawesome."""

from curator.gui.pyside_fixes import keep_none_alive

# Before any Qt call: see pyside_fixes for the PySide6 6.12 / Python 3.11 defect this guards against.
keep_none_alive()
