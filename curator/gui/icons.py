"""Semantic icon names mapped to qtawesome ids: the only place qtawesome ids appear."""

from __future__ import annotations

from functools import cache, lru_cache

import qtawesome as qta
from PySide6.QtGui import QIcon, QPixmap

#: Semantic name -> qtawesome id (Material Design Icons 6).
ICONS: dict[str, str] = {
    "open-folder": "mdi6.folder-open-outline",
    "rescan": "mdi6.refresh",
    "quit": "mdi6.exit-to-app",
    "search": "mdi6.magnify",
    "clear": "mdi6.close",
    "saved-search": "mdi6.bookmark-outline",
    "recent": "mdi6.history",
    "table-view": "mdi6.table",
    "grid-view": "mdi6.view-grid-outline",
    "theme": "mdi6.theme-light-dark",
    "open-source": "mdi6.open-in-new",
    "copy": "mdi6.content-copy",
    "select-all": "mdi6.select-all",
    "about": "mdi6.information-outline",
    "shortcuts": "mdi6.keyboard-outline",
    "published": "mdi6.check-circle",
    "changed": "mdi6.pencil-circle",
    "problem": "mdi6.alert-outline",
    "conflict": "mdi6.source-branch",
    "missing": "mdi6.file-question-outline",
    "image": "mdi6.image-outline",
    "image-broken": "mdi6.image-off-outline",
    "cancel": "mdi6.cancel",
    "status": "mdi6.filter-outline",
    "category": "mdi6.shape-outline",
    "topic": "mdi6.tag-outline",
    "provider": "mdi6.domain",
    "link": "mdi6.earth",
    "edit": "mdi6.pencil-outline",
    "undo": "mdi6.undo",
    "redo": "mdi6.redo",
    "history": "mdi6.history",
    "write": "mdi6.content-save-outline",
    "review": "mdi6.file-compare",
    "publish": "mdi6.check-circle-outline",
    "unpublish": "mdi6.close-circle-outline",
    "quality": "mdi6.star-outline",
    "heat": "mdi6.fire",
    "add": "mdi6.plus",
    "remove": "mdi6.minus",
    "up": "mdi6.arrow-up",
    "down": "mdi6.arrow-down",
    "pick-card": "mdi6.card-search-outline",
    "resolve": "mdi6.call-merge",
    "preferences": "mdi6.cog-outline",
    "advance": "mdi6.debug-step-over",
}

#: Colours that carry meaning regardless of theme.
COLORS: dict[str, str] = {
    "published": "#2e9d4f",
    "changed": "#2f6fb2",
    "problem": "#d08a00",
    "conflict": "#c0392b",
    "missing": "#8c8c8c",
    "image-broken": "#c0504d",
}


@cache
def icon(name: str) -> QIcon:
    """The icon for a semantic name (KeyError for an unknown name, so typos fail loudly)."""
    color = COLORS.get(name)
    if color:
        return qta.icon(ICONS[name], color=color)
    return qta.icon(ICONS[name])


@lru_cache(maxsize=256)
def pixmap(name: str, size: int) -> QPixmap:
    """The icon rendered once at `size` px: delegates paint it per cell, and qtawesome would
    otherwise re-render the glyph from the font every time."""
    return icon(name).pixmap(size, size)


def set_foreground(color: str) -> None:
    """Use `color` for the icons without a meaning colour (called when the theme changes)."""
    qta.set_defaults(color=color, color_disabled="#9a9a9a")
    icon.cache_clear()
    pixmap.cache_clear()
