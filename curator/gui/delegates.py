"""Painting for the card list: score bars, status markers, and the grid view's card tiles."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from curator.core.store_types import CardRow
from curator.gui import icons
from curator.gui.images import ImageCache
from curator.gui.models.card_table import NO_VALUE, Column, Role

Index = QModelIndex | QPersistentModelIndex


def score_color(value: int) -> QColor:
    """Red (0) through amber to green (100): the eye reads the bar before the number."""
    value = max(0, min(100, value))
    hue = int(value * 1.2)  # 0 = red, 120 = green
    return QColor.fromHsv(hue, 150, 200)


#: Behind a marker icon on a selected row.
MARKER_BACKDROP = QColor(255, 255, 255, 235)
def score_text(value: int | None, *, heat: bool) -> str:
    if value is None or (heat and value < 0):
        return NO_VALUE
    return str(value)


def paint_score(painter: QPainter, rect: QRect, value: int | None, palette: QPalette, *, heat: bool) -> None:
    """The number, then a slim bar filled to value%; "—" for no value (or heat -1).

    The number stands beside the bar, never on it, in the theme's text colour (the caller passes the
    highlighted-text colour for a selected row): readable in the light and the dark theme alike, where
    digits half on a light fill and half on a dark track were not.
    """
    text = score_text(value, heat=heat)
    painter.save()
    inner = rect.adjusted(3, 0, -3, 0)
    if text == NO_VALUE or value is None:
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
        return
    digits = painter.fontMetrics().horizontalAdvance("100")
    number = QRect(inner.left(), inner.top(), digits, inner.height())
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    painter.drawText(number, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
    bar = QRect(number.right() + 5, inner.center().y() - 3, inner.right() - number.right() - 5, 7)
    if bar.width() >= 6:
        painter.setPen(Qt.PenStyle.NoPen)
        track = QColor(palette.color(QPalette.ColorRole.Mid))
        track.setAlpha(70)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, 3, 3)
        filled = QRect(bar)
        filled.setWidth(max(2, int(bar.width() * max(0, min(100, value)) / 100)))
        painter.setBrush(score_color(value))
        painter.drawRoundedRect(filled, 3, 3)
    painter.restore()


class _Base(QStyledItemDelegate):
    def _background(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> QStyleOptionViewItem:
        # Let the style paint selection/hover backgrounds, then paint our content without its text.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        return opt


class ScoreDelegate(_Base):
    """Quality or heat as a bar."""

    def __init__(self, *, heat: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heat = heat

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = self._background(painter, option, index)
        value = index.data(Role.RAW)
        if value is None and not isinstance(index.data(Role.ROW), CardRow):
            return  # a row still loading (a team library's page on its way): empty, not "no value"
        palette = QPalette(opt.palette)
        if opt.state & QStyle.StateFlag.State_Selected:
            palette.setColor(QPalette.ColorRole.Text, opt.palette.color(QPalette.ColorRole.HighlightedText))
        paint_score(painter, opt.rect, value if isinstance(value, int) else None, palette, heat=self.heat)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(70, super().sizeHint(option, index).height())


class MarkerDelegate(_Base):
    """Centred status icons: the published check, the changed/conflict/missing and problem markers."""

    ICON_SIZE = 16

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = self._background(painter, option, index)
        row = index.data(Role.ROW)
        if not isinstance(row, CardRow):
            return
        names = self.markers(row, Column(index.column()))
        size = self.ICON_SIZE
        width = len(names) * (size + 2)
        x = opt.rect.center().x() - width // 2
        y = opt.rect.center().y() - size // 2
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        for name in names:
            target = QRect(x, y, size, size)
            if selected:
                # The changed marker is the highlight's own blue: on a selected row it needs a backdrop.
                painter.save()
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(MARKER_BACKDROP)
                painter.drawEllipse(target.adjusted(-2, -2, 2, 2))
                painter.restore()
            painter.drawPixmap(target, icons.pixmap(name, size))
            x += size + 2

    @staticmethod
    def markers(row: CardRow, column: Column) -> list[str]:
        """The icon names a cell shows."""
        if column == Column.PUBLISHED:
            return ["published"] if row.published else []
        if column == Column.CHANGED:
            return [n for n, flag in (("changed", row.dirty), ("conflict", row.conflict), ("missing", row.missing)) if flag]
        if column == Column.PROBLEMS:
            return ["problem"] if row.problems else []
        return []


class CardTileDelegate(QStyledItemDelegate):
    """The grid view's tile: thumbnail on top, then title (two lines), provider, and the two score bars."""

    TILE = QSize(236, 262)  # the smallest tile's width; the grid widens them to fill its width (set_width)
    MAX_TILE_WIDTH = 360
    THUMB = QSize(220, 124)
    MARK = 14  # the quality/heat icon before each score bar
    FRAME, PAD = 4, 8  # the gap around a tile's frame, and the frame's padding

    def __init__(self, images: ImageCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images = images
        self._width = self.TILE.width()
        self._height = self.TILE.height()

    def set_width(self, width: int) -> None:
        """The tile width the grid chose for its viewport (see card_grid_view.tile_width)."""
        self._width = width

    def set_font(self, font: QFont) -> None:
        """The view's font: the tile is exactly as tall as what `paint` draws in it (no empty band below
        the score bars, whatever the font size)."""
        self._height = self.content_height(font) + 2 * (self.FRAME + self.PAD)

    @classmethod
    def content_height(cls, font: QFont) -> int:
        """Thumbnail, two title lines, the provider line and the score bars, with the gaps `paint` leaves."""
        bold = QFont(font)
        bold.setBold(True)
        small = QFontMetrics(font).height()
        return cls.THUMB.height() + 6 + QFontMetrics(bold).lineSpacing() * 2 + 4 + small + 6 + small + 8

    def tile_size(self) -> QSize:
        return QSize(self._width, self._height)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self.tile_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        row = index.data(Role.ROW)
        if not isinstance(row, CardRow):
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        rect = option.rect.adjusted(self.FRAME, self.FRAME, -self.FRAME, -self.FRAME)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(palette.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Midlight))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        if selected:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlpha(40)
            painter.setBrush(fill)
        painter.drawRoundedRect(rect, 6, 6)

        inner = rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        thumb_rect = QRect(inner.topLeft(), QSize(inner.width(), self.THUMB.height()))
        _state, pixmap = self.images.get(row.lead_image, self.THUMB)
        target = pixmap.size().scaled(thumb_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
        px = QRect(0, 0, target.width(), target.height())
        px.moveCenter(thumb_rect.center())
        painter.drawPixmap(px, pixmap)

        y = thumb_rect.bottom() + 6
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        metrics = QFontMetrics(title_font)
        title_rect = QRect(inner.left(), y, inner.width(), metrics.lineSpacing() * 2)
        painter.drawText(title_rect, Qt.TextFlag.TextWordWrap, elide_lines(row.title or "(no title)", metrics, inner.width(), 2))
        y = title_rect.bottom() + 4

        painter.setFont(option.font)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        small = QFontMetrics(option.font)
        provider = row.provider or "(no provider)"
        painter.drawText(
            QRect(inner.left(), y, inner.width() - 22, small.height()),
            Qt.AlignmentFlag.AlignLeft,
            small.elidedText(provider, Qt.TextElideMode.ElideRight, inner.width() - 22),
        )
        if row.published:
            painter.drawPixmap(QRect(inner.right() - 16, y, 16, 16), icons.pixmap("published", 16))
        y += small.height() + 6
        # Two bars side by side, each after its column's icon (star: quality, flame: heat), so a tile says
        # which is which without the table's headers.
        half = (inner.width() - 8) // 2
        bar_h = small.height() + 8
        mark = self.MARK
        for i, (name, value, heat) in enumerate((("quality", row.quality, False), ("heat", row.heat, True))):
            left = inner.left() + i * (half + 8)
            painter.drawPixmap(QRect(left, y + (bar_h - mark) // 2, mark, mark), icons.pixmap(name, mark))
            paint_score(painter, QRect(left + mark, y, half - mark, bar_h), value, palette, heat=heat)
        painter.restore()


def elide_lines(text: str, metrics: QFontMetrics, width: int, lines: int) -> str:
    """`text` word-wrapped into at most `lines` lines of `width`, the last one elided."""
    words = text.split()
    out: list[str] = []
    current = ""
    for i, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if metrics.horizontalAdvance(trial) <= width or not current:
            current = trial
            continue
        out.append(current)
        current = word
        if len(out) == lines - 1:
            rest = " ".join(words[i:])
            out.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            return "\n".join(out)
    out.append(metrics.elidedText(current, Qt.TextElideMode.ElideRight, width))
    return "\n".join(out)
