"""The detail panel: the selected card's lead image, text, links, topics, related coverage, other coverage
of the same story (views/same_story.py, filled in from a worker) and a preview.

Every piece of card text is shown as plain text (a title holding ``<img src=...>`` shows those characters);
only http/https links ever open.

CardLoader reads the card in hand for the pane through the window's reader (library_tasks.RoundTrips: off
the GUI thread on a team library): the newest card asked for wins, and a load that takes longer than
:data:`DIM_AFTER_MS` greys the pane's content, so the editor never types into a card that is not the one
in hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from curator.core.store_types import CardDetail, LibraryError
from curator.gui import errorlog, icons, plain
from curator.gui.images import ImageCache, ImageState, is_fetchable
from curator.gui.views.card_editor import CardEditor
from curator.gui.views.card_problems import CardProblems
from curator.gui.views.same_story import SameStorySection

LEAD_SIZE = QSize(432, 243)
#: A lead image that cannot load shrinks to this, so a broken picture does not dominate the panel.
BROKEN_LEAD_SIZE = QSize(160, 90)
RELATED_SIZE = QSize(112, 63)
PREVIEW_SIZE = QSize(320, 180)
#: A card in hand slower to arrive than this greys the pane (quicker ones swap without a flicker).
DIM_AFTER_MS = 150


def open_url(url: str | None) -> bool:
    """Open an http/https URL in the browser; anything else (file:, javascript:, …) is refused."""
    if not is_fetchable(url):
        return False
    return QDesktopServices.openUrl(QUrl(url))


def plain_label(text: str = "", *, name: str | None = None, wrap: bool = True, select: bool = False) -> QLabel:
    """A QLabel that can never interpret card text as rich text."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    if select:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _provider_name(item: dict[str, Any]) -> str | None:
    provider = item.get("provider")
    if isinstance(provider, dict):
        name = provider.get("name") or provider.get("domain")
        return str(name) if name else None
    return item.get("provider_name") or (provider if isinstance(provider, str) else None)


def _first_image(item: dict[str, Any]) -> str | None:
    images = item.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        url = images[0].get("url")
        return str(url) if url else None
    return None


def _short_date(text: Any) -> str:
    return str(text)[:16].replace("T", " ") if text else ""


class ImageLabel(QLabel):
    """A QLabel showing one URL from the ImageCache at a fixed size, updating when it arrives."""

    def __init__(self, images: ImageCache, size: QSize, broken_size: QSize | None = None) -> None:
        super().__init__()
        self.images = images
        self.box = size
        self.broken_box = broken_size
        self.url: str | None = None
        self.state = None
        self._fix_size(size)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        images.changed.connect(self._changed)

    def _fix_size(self, size: QSize) -> None:
        self.setFixedSize(size)

    def set_url(self, url: str | None) -> None:
        self.url = url
        self.refresh()

    def refresh(self) -> None:
        self.state, pixmap = self.images.get(self.url, self.box)
        if self.broken_box is not None:
            broken = self.state is ImageState.BROKEN
            self._fix_size(self.broken_box if broken else self.box)
            if broken:
                pixmap = self.images.placeholder(self.broken_box, broken=True)
        self.setPixmap(pixmap)
        reason = self.images.error(self.url) if self.url else "no image"
        tip = self.url or "" if self.state is not ImageState.BROKEN else f"Image unavailable: {reason}"
        self.setToolTip(plain.tip(tip))

    def _changed(self, url: str) -> None:
        if url == self.url:
            self.refresh()


class FitImageLabel(ImageLabel):
    """An ImageLabel as wide as its pane allows (never wider than `largest`), keeping the box's aspect ratio.

    A fixed-width picture pushed the detail pane wider than a laptop window (a horizontal scroll bar and
    controls cut off): this one takes the width the layout gives it, and asks the cache for a picture
    fitted into that width (in steps of :data:`WIDTH_STEP`, so dragging the splitter does not decode a
    new size per pixel). The image keeps its own aspect ratio inside the box.
    """

    WIDTH_STEP = 16

    def __init__(self, images: ImageCache, largest: QSize, broken_size: QSize | None = None,
                 smallest_width: int = 96) -> None:  # fmt: skip
        self.largest = largest
        self.smallest_width = smallest_width
        super().__init__(images, largest, broken_size)
        # Ignored: the pixmap's own width never becomes the layout's minimum.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(smallest_width)

    def _fix_size(self, size: QSize) -> None:
        self.setFixedHeight(size.height())

    def box_for(self, width: int) -> QSize:
        """The box a picture is fitted into at a label width of `width` pixels."""
        width = max(self.smallest_width, min(self.largest.width(), width))
        width -= width % self.WIDTH_STEP if width < self.largest.width() else 0
        return QSize(width, round(width * self.largest.height() / self.largest.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        box = self.box_for(event.size().width())
        if box != self.box:
            self.box = box
            self.refresh()


class RelatedItem(QFrame):
    """One related article: thumbnail, title, provider and date; a click opens it."""

    clicked = Signal(str)

    def __init__(self, item: dict[str, Any], images: ImageCache) -> None:
        super().__init__()
        self.setObjectName("relatedItem")
        self.url = item.get("sourceUrl") or item.get("source_url")
        self.thumb = ImageLabel(images, RELATED_SIZE)
        self.thumb.set_url(_first_image(item))
        self.title = plain_label(str(item.get("title") or "(no title)"))
        self.title.setStyleSheet("font-weight: bold")
        meta = " · ".join(x for x in (_provider_name(item), _short_date(item.get("publishedDateTime"))) if x)
        self.meta = plain_label(meta, name="detailMeta")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.meta)
        text.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 6, 0, 6)
        row.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        if is_fetchable(self.url):
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(plain.tip(self.url))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and is_fetchable(self.url):
            self.clicked.emit(str(self.url))
        super().mouseReleaseEvent(event)


class CardPreview(QFrame):
    """The card as readers see it once published: image, title, excerpt, provider and date."""

    def __init__(self, images: ImageCache) -> None:
        super().__init__()
        self.setObjectName("cardPreview")
        # As wide as a published card at most, narrower when the pane is (the picture shrinks with it).
        self.setMaximumWidth(PREVIEW_SIZE.width() + 24)
        self.image = FitImageLabel(images, PREVIEW_SIZE)
        self.image.setObjectName("previewImage")
        self.title = plain_label(name="cardPreviewTitle")
        self.excerpt = plain_label()
        self.excerpt.setMaximumHeight(self.excerpt.fontMetrics().lineSpacing() * 4 + 4)
        self.footer = plain_label(name="detailMeta")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        for widget in (self.image, self.title, self.excerpt, self.footer):
            layout.addWidget(widget)

    def show_card(self, card: CardDetail) -> None:
        self.image.set_url(card.lead_image)
        self.title.setText(card.title or "(no title)")
        excerpt = card.data.get("excerpt")
        self.excerpt.setText(str(excerpt) if excerpt else "")
        self.excerpt.setVisible(bool(excerpt))
        self.footer.setText(" · ".join(x for x in (card.provider, _short_date(card.date or card.published_at)) if x))


class DetailPanel(QScrollArea):
    """Shows one CardDetail (or a hint when nothing is selected), with its editing controls."""

    linkActivated = Signal(str)
    editRelatedRequested = Signal()

    def __init__(self, images: ImageCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Everything in the pane fits its width (pictures scale, text wraps, links clip): never a sideways scroll.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.images = images
        self.card: CardDetail | None = None
        self.opener = open_url  # swapped in tests to record instead of launching a browser

        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.setSpacing(6)
        self.empty = plain_label("Select a card to see it here.", name="detailMeta")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty)

        self.content = QWidget()
        c = QVBoxLayout(self.content)
        c.setContentsMargins(0, 0, 0, 0)
        c.setSpacing(6)
        self.image = FitImageLabel(images, LEAD_SIZE, BROKEN_LEAD_SIZE)
        c.addWidget(self.image)
        self.title = plain_label(name="detailTitle", select=True)
        c.addWidget(self.title)
        self.meta = plain_label(name="detailMeta", select=True)
        c.addWidget(self.meta)
        self.flags = plain_label(name="detailFlags")
        c.addWidget(self.flags)
        self.problems = CardProblems()
        c.addWidget(self.problems)
        self.editor = CardEditor()
        c.addWidget(self.editor)
        # A fix is an edit like any other made here: one request, run by whoever runs the editor's.
        self.problems.fixRequested.connect(self.editor.edited)
        links = QHBoxLayout()
        self.source_button = QPushButton("Open article")
        icons.set_icon(self.source_button, "open-source")
        self.source_button.clicked.connect(lambda: self._open(self.card.data.get("sourceUrl") if self.card else None))
        links.addWidget(self.source_button)
        # A long URL must not widen the panel (that would stop the title from wrapping): elided in the
        # middle, whole in its tooltip (and on the row's context menu: Copy Link).
        self.source_label = plain.ElidedLabel()
        self.source_label.setObjectName("detailMeta")
        self.source_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        links.addWidget(self.source_label, 1)
        c.addLayout(links)
        self.path = plain_label(name="detailMeta", select=True)
        self.path.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        c.addWidget(self.path)
        related_row = QHBoxLayout()
        self.related_heading = plain_label(name="detailSection")
        related_row.addWidget(self.related_heading, 1)
        self.edit_related = QPushButton("Edit related…")
        icons.set_icon(self.edit_related, "edit")
        self.edit_related.setToolTip("Add, remove, reorder and edit the related links")
        self.edit_related.clicked.connect(self.editRelatedRequested)
        related_row.addWidget(self.edit_related, 0, Qt.AlignmentFlag.AlignBottom)
        c.addLayout(related_row)
        self.related_box = QVBoxLayout()
        self.related_box.setSpacing(0)
        c.addLayout(self.related_box)
        self.same_story = SameStorySection()
        c.addWidget(self.same_story)
        self.preview_heading = plain_label("Card preview — as it appears when published", name="detailSection")
        c.addWidget(self.preview_heading)
        self.preview = CardPreview(images)
        c.addWidget(self.preview)
        c.addStretch(1)
        layout.addWidget(self.content)
        self.content.hide()
        self.related_items: list[RelatedItem] = []

    def show_card(self, card: CardDetail | None, *, keep_scroll: bool = False) -> None:
        """Show `card`, or the empty hint for None (`keep_scroll`: after an edit of the same card)."""
        self.card = card
        self.empty.setVisible(card is None)
        self.content.setVisible(card is not None)
        if card is None:
            self.same_story.show_card(None)
            return
        data = card.data
        self.image.set_url(card.lead_image)
        self.title.setText(card.title or "(no title)")
        published = {True: "Published", False: "Not published", None: "Not published (no flag)"}[card.published]
        self.meta.setText(" · ".join(x for x in (card.provider, _short_date(card.published_at), card.category, published) if x))
        flags = [t for t, on in (("Changes not yet written to the file", card.dirty),
                                 ("Conflict: the file changed on disk (Cards > Resolve Conflict…)", card.conflict),
                                 ("The file is missing", card.missing)) if on]  # fmt: skip
        self.flags.setText("\n".join(flags))
        self.flags.setVisible(bool(flags))
        self.problems.show_data(data)
        self.editor.show_card(card)
        source = data.get("sourceUrl")
        self.source_button.setEnabled(is_fetchable(source if isinstance(source, str) else None))
        self.source_label.set_full_text(str(source) if source else "(no source link)")
        self.path.setText(card.path)
        self._show_related(card.related)
        self.same_story.show_card(card.id)  # asks for the suggestions; a worker fills them in
        self.preview.show_card(card)
        if not keep_scroll:
            self.verticalScrollBar().setValue(0)

    def _show_related(self, related: list[dict[str, Any]]) -> None:
        for item in self.related_items:
            # Hide and detach now: deleteLater alone leaves the old rows painted until the event loop runs.
            self.related_box.removeWidget(item)
            item.hide()
            item.setParent(None)
            item.deleteLater()
        self.related_items = []
        self.related_heading.setText(f"Related coverage ({len(related)})" if related else "No related coverage")
        for entry in related:
            if not isinstance(entry, dict):
                continue
            item = RelatedItem(entry, self.images)
            item.clicked.connect(self._open)
            self.related_box.addWidget(item)
            self.related_items.append(item)

    def _open(self, url: Any) -> None:
        self.open_link(url)

    def open_link(self, url: Any) -> bool:
        """Open an http/https link in the browser (anything else is refused, False).

        When no browser can be started (QDesktopServices.openUrl returns False) a message says so and
        gives the link to copy: a click that does nothing would leave the editor guessing.
        """
        if not (isinstance(url, str) and is_fetchable(url)):
            return False
        self.linkActivated.emit(url)
        if self.opener(url) is False:
            plain.warning(self, "Cannot open the article",
                          f"No web browser could be started to open:\n{url}\n\nCopy the link and open it yourself.")  # fmt: skip
            return False
        return True


#: Runs `read(store)` somewhere and calls `done(result)` or `failed(error)` on the GUI thread (the window's
#: library_tasks.RoundTrips.read; see CardLoader).
Reader = Callable[..., object]


class CardLoader(QObject):
    """Loads the card in hand into a DetailPanel through a reader; the newest card asked for wins.

    The pane keeps the card it shows until the next one arrives (greyed after DIM_AFTER_MS, so the editor
    and the Fix buttons cannot edit it meanwhile); a card that is gone shows the empty hint; a failed read
    (a team library's lost connection) is `failed(sentence)`, never a traceback.
    """

    failed = Signal(str)  # the library could not be read: the sentence (the window's banner takes it)
    loaded = Signal(object)  # the card id now shown (None: the empty hint), after each load

    def __init__(
        self, panel: DetailPanel, reader: Reader, parent: QObject | None = None, *,
        pending: Callable[[], bool] | None = None,
    ) -> None:  # fmt: skip
        """`pending()`: the card in hand is not known yet (its row's page is on its way): then no card (None)
        keeps the pane's card greyed instead of the empty hint, until the card is asked for."""
        super().__init__(parent)
        self.panel = panel
        self.reader = reader
        self.pending = pending
        self._asked = 0  # loads asked for; the newest one is shown
        self._shown = 0  # the load last settled (shown or failed)
        self._fresh: int | None = None  # the card `put` showed as an edit left it (reload need not read it)
        #: The card last asked for (the card in hand), shown or on its way.
        self.wanted: int | None = None
        self._dim = QTimer(self)
        self._dim.setSingleShot(True)
        self._dim.setInterval(DIM_AFTER_MS)
        self._dim.timeout.connect(lambda: self.panel.content.setEnabled(False))

    @property
    def loading(self) -> bool:
        """Whether a card asked for has not arrived yet."""
        return self._asked != self._shown

    def show(self, card_id: int | None, *, keep_scroll: bool = False) -> None:
        """Show card `card_id` (None: the empty hint) once it is read; `keep_scroll`: the same card again."""
        self._asked += 1
        asked = self._asked
        self.wanted = card_id
        if card_id is None:
            if self.pending is not None and self.pending() and self.panel.card is not None:
                self._dim.stop()
                self.panel.content.setEnabled(False)  # its card is on its way: CardSelection asks for it then
                return
            self._arrived(asked, None, keep_scroll)
            return
        if not self._dim.isActive() and self.panel.content.isEnabled():
            self._dim.start()

        def failed(err: BaseException) -> None:
            if asked != self._asked:
                return
            self._settle(asked)
            if self.panel.card is not None and self.panel.card.id != card_id:
                self.panel.content.setEnabled(False)  # not the card in hand: greyed until it is read (reload)
            if isinstance(err, LibraryError):
                self.failed.emit(str(err))
            else:
                errorlog.log_failure("Reading the card in hand", err)

        self.reader(
            lambda store: store.detail(card_id), lambda card: self._arrived(asked, card, keep_scroll), failed,
            lane="cards",
        )  # fmt: skip

    def reload(self) -> None:
        """Read the card in hand again (after an edit of it, or one that did not happen), keeping the scroll;
        not when `put` just showed it as the library holds it now."""
        shown, fresh, self._fresh = self.panel.card, self._fresh, None
        if self.wanted is not None and fresh != self.wanted:
            self.show(self.wanted, keep_scroll=shown is not None and shown.id == self.wanted)

    def put(self, card: CardDetail) -> None:
        """Show `card`, read elsewhere just now (an edit's job read it after the edit), if it is the card in
        hand; a load of it still on its way is superseded (this one is newer)."""
        if card.id != self.wanted:
            return
        self._asked += 1
        self._arrived(self._asked, card, keep_scroll=self.panel.card is not None and self.panel.card.id == card.id)
        self._fresh = card.id

    def _settle(self, asked: int) -> None:
        self._shown = asked
        self._dim.stop()
        self.panel.content.setEnabled(True)

    def _arrived(self, asked: int, card: CardDetail | None, keep_scroll: bool) -> None:
        if asked != self._asked:
            return  # a newer card was asked for meanwhile: it wins
        self._settle(asked)
        self.panel.show_card(card, keep_scroll=keep_scroll)
        self.loaded.emit(card.id if card is not None else None)
