"""Semantic icon names mapped to qtawesome ids: the only place qtawesome ids appear."""

from __future__ import annotations

from functools import cache, lru_cache

import qtawesome as qta
from PySide6.QtCore import QObject
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


#: The foreground of the icons without a meaning colour (set_foreground; empty: qtawesome's own).
_foreground: dict[str, str] = {}


@cache
def icon(name: str) -> QIcon:
    """The icon for a semantic name (KeyError for an unknown name, so typos fail loudly)."""
    color = COLORS.get(name) or _foreground.get("color")
    if color:
        # The colour goes in the call, not only in qtawesome's defaults: qtawesome caches icons by their
        # arguments, so a default changed later would hand back the old theme's glyphs.
        return qta.icon(ICONS[name], color=color, color_disabled=_foreground.get("disabled", "#9a9a9a"))
    return qta.icon(ICONS[name])


@lru_cache(maxsize=256)
def pixmap(name: str, size: int) -> QPixmap:
    """The icon rendered once at `size` px: delegates paint it per cell, and qtawesome would
    otherwise re-render the glyph from the font every time."""
    return icon(name).pixmap(size, size)


#: The dynamic property naming a themed object's icon (see set_icon / refresh).
ICON_PROPERTY = "curatorIcon"


def set_icon(target: QObject, name: str) -> QObject:
    """Give an action/button/menu action the icon `name`, and remember it so a theme change re-colours it."""
    target.setProperty(ICON_PROPERTY, name)
    target.setIcon(icon(name))  # type: ignore[attr-defined]
    return target


def refresh(roots: list[QObject]) -> int:
    """Re-set the icons given with set_icon under `roots` (after set_foreground); returns how many.

    QIcons keep the colour they were drawn in: without this a dark theme keeps dark-grey glyphs.
    """
    done = 0
    for root in roots:
        for obj in [root, *root.findChildren(QObject)]:
            name = obj.property(ICON_PROPERTY)
            if name and hasattr(obj, "setIcon"):
                obj.setIcon(icon(str(name)))
                done += 1
    return done


def set_foreground(color: str) -> None:
    """Use `color` for the icons without a meaning colour (called when the theme changes)."""
    _foreground.update(color=color, disabled="#9a9a9a")
    qta.set_defaults(color=color, color_disabled="#9a9a9a")
    icon.cache_clear()
    pixmap.cache_clear()
