"""Card text is never markup; rows without a card never reach an edit; import errors are named and kept;
a library locked by another process never freezes the window (issue 8, §2, §5 and the GUI parts of §1)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from lockholder import LockHolder
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import errorlog, library_busy, plain, workers
from curator.gui.models.card_table import Column
from curator.gui.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def hostile_cards(folder: Path) -> dict[str, Path]:
    """Cards whose every text field holds markup: an <img> naming a local file and a FIFO, bold, links,
    entities. Returns name -> path (the folder also gets the FIFO and the local image)."""
    folder.mkdir(parents=True, exist_ok=True)
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    local = folder / "local.png"
    local.write_bytes(b"\x89PNG\r\n\x1a\n")
    img, img_fifo = f"<img src={local}>", f"<img src={fifo}>"
    cards = {
        "title": f"title: \"<b>bold</b> {img} &amp; <a href='file:///etc/passwd'>link</a>\"",
        "date": f'title: "Dated"\npublishedDateTime: "{img_fifo}"',
        "provider": f'title: "Provider"\nprovider:\n  name: "{img_fifo}"\n  domain: "<b>d</b>"',
        "topics": f'title: "Topics"\ntopics:\n  - "<b>AI</b>"\n  - "R&D {img_fifo}"\ncategory: "<i>news</i>"',
        "urls": (
            f'title: "Links"\nsourceUrl: "https://example.invalid/{img_fifo}"\n'
            f'images:\n  - url: "http://127.0.0.1:9/{img_fifo}.png"\n'
            f'related:\n  - title: "{img_fifo}"\n    sourceUrl: "https://example.invalid/<b>r</b>"\n'
            f'    provider:\n      name: "<b>p</b>"\n    publishedDateTime: "{img}"'
        ),
    }
    paths = {}
    for name, body in cards.items():
        path = folder / f"{name}.md"
        path.write_text(f"---\n{body}\nquality: 50\npublished: false\n---\n", encoding="utf-8")
        paths[name] = path
    odd = folder / f"<img src={fifo.name}> & <b>name.md"  # the path itself is markup
    odd.write_text('---\ntitle: "Odd name"\n---\n', encoding="utf-8")
    paths["name"] = odd
    return paths


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox]:
    """Every message box the app shows through plain.show (answered at once)."""
    boxes: list[QMessageBox] = []

    def capture(box: QMessageBox) -> int:
        boxes.append(box)
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(plain, "show", capture)
    return boxes


@pytest.fixture
def hostile_window(qtbot, tmp_path: Path, images, captured):  # type: ignore[no-untyped-def]
    from curator.gui.views.main_window import MainWindow

    root = tmp_path / "<b>lib</b> & co"
    cards = root / "cards"
    cards.mkdir(parents=True)
    for seed in sorted(SEEDS.rglob("*.txt"))[:8]:
        shutil.copy(seed, cards / seed.name)
    paths = hostile_cards(cards / "hostile")
    store = Store(root / "<img src=x>.sqlite")
    report = import_paths(store, [cards], workers=1)
    assert report.failed == 0, report.errors
    window = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=images, pool=workers.SyncPool())
    window.import_workers = 1
    window.detail.opener = lambda _url: True
    window.files.ask_close = lambda _box: "keep"
    window.files.run_dialog = lambda dialog: (
        window.__dict__.setdefault("dialogs", []).append(dialog),
        False,
    )[1]
    window.related.run_dialog = window.files.run_dialog  # type: ignore[assignment]
    window.edits.confirm = lambda dialog: (window.__dict__.setdefault("dialogs", []).append(dialog), False)[1]
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.paths = paths  # type: ignore[attr-defined]
    yield window
    store.close()


def safe(text: str | None) -> bool:
    """What Qt would show is plain text: it does not look like markup, or it is our escaped wrapper."""
    return not text or not plain.might_be_rich(text) or plain.is_escaped_tip(text)


def unsafe_texts(root: QWidget) -> list[str]:
    """Every tooltip, rich-looking AutoText label, window title and message box text under `root`."""
    bad: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not safe(widget.toolTip()):
            bad.append(f"{type(widget).__name__} tooltip {widget.toolTip()!r}")
        rich_label = isinstance(widget, QLabel) and widget.textFormat() != Qt.TextFormat.PlainText
        if rich_label and plain.might_be_rich(widget.text()):
            bad.append(f"QLabel {widget.objectName()!r} {widget.text()!r}")
        if isinstance(widget, QMessageBox) and widget.textFormat() != Qt.TextFormat.PlainText:
            bad.append(f"QMessageBox {widget.text()!r}")
    return bad


def unsafe_model_tips(model) -> list[str]:  # type: ignore[no-untyped-def]
    bad = []
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            tip = model.index(row, column).data(Qt.ItemDataRole.ToolTipRole)
            if not safe(tip):
                bad.append(f"row {row} col {column}: {tip!r}")
    return bad


def test_hostile_cards_never_render_as_markup(hostile_window, captured, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = hostile_window
    assert w.model.total == 14
    # The card table: every row, every column, display and tooltip roles.
    assert unsafe_model_tips(w.model) == []
    titles = [w.model.index(r, Column.TITLE).data() for r in range(w.model.rowCount())]
    assert any("<b>bold</b>" in t for t in titles)  # display text keeps the characters (views draw it plain)
    # The escaped tooltip still shows the card's characters: the FIFO date, the odd path.
    date_row = next(r for r in range(w.model.rowCount()) if w.model.card_at(r).title == "Dated")
    date_tip = w.model.index(date_row, Column.DATE).data(Qt.ItemDataRole.ToolTipRole)
    assert (
        plain.is_escaped_tip(date_tip)
        and plain.tip_text(date_tip) == f"<img src={w.paths['date'].parent / 'pipe'}>"
    )
    name_row = next(r for r in range(w.model.rowCount()) if w.model.card_at(r).title == "Odd name")
    assert plain.tip_text(w.model.index(name_row, Column.TITLE).data(Qt.ItemDataRole.ToolTipRole)) == str(
        w.paths["name"]
    )
    # Facet rows (providers, topics, categories hold markup).
    facet_tips = [
        item.toolTip(0)
        for group in ("status", "category", "topic", "provider")
        for item in w.facets.items(group)
    ]
    assert any("R&amp;D" in t for t in facet_tips) and all(safe(t) for t in facet_tips)
    # Every card in the detail panel (topic chips, image and related URLs, marks) and the grid.
    for row in range(w.model.rowCount()):
        w.select_card(w.model.card_at(row).id)
        QApplication.processEvents()
        assert unsafe_texts(w) == [], w.model.card_at(row).title
    w.set_view_mode("grid")
    assert unsafe_texts(w) == []
    # A pending edit shows the file's (hostile) value in the changed mark's tooltip.
    provider_id = next(
        w.model.card_at(r).id for r in range(w.model.rowCount()) if w.model.card_at(r).title == "Topics"
    )
    w.select_card(provider_id)
    w.edits.change_topic([provider_id], "<img src=/x> & <b>", add=True)
    assert "&&" in w.actions.undo.text()  # the topic's & is not a mnemonic in Edit > Undo
    w.edits.set_fields([provider_id], {"category": "<b>sport</b>"}, "Set category")
    assert unsafe_texts(w) == []
    # Dialogs that quote card text: related links, bulk confirmation, a refused edit, About.
    w.related.edit()
    w.edits.select_all_matching()
    w.actions.publish.trigger()  # 14 cards: below the confirmation threshold, so ask for more explicitly
    from curator.gui.views.bulk_dialog import BulkConfirmDialog, flagged_cards

    flagged, total = flagged_cards(w.store, w.store.ids())
    w.__dict__["dialogs"].append(BulkConfirmDialog("Add topic '<b>x</b>'", 30, flagged, total, w))
    w.edits.set_fields([provider_id], {"quality": "<img src=/x>"}, "Set quality")  # refused: a message box
    w.help.show_about()
    w.help.show_problems()
    dialogs = [*w.__dict__["dialogs"], *captured, w.help.problems_dialog]
    assert len(captured) >= 2
    for dialog in dialogs:
        dialog.show()
        QApplication.processEvents()
        assert unsafe_texts(dialog) == [], type(dialog).__name__
        for view in dialog.findChildren(QWidget):
            model = getattr(view, "model", None)
            if callable(model) and model() is not None and hasattr(model(), "rowCount"):
                assert unsafe_model_tips(model()) == []
        dialog.close()
    assert any("<img src=/x>" in box.text() for box in captured)  # the refused value is quoted, as plain text
    assert str(errorlog.log_path()) in w.help.about_text() and str(w.store.path) in w.help.about_text()
    assert plain.window_title("a [*] b") == "a [*][*] b"


def test_a_conflict_shows_hostile_values_as_plain_text(hostile_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = hostile_window
    path = w.paths["title"]
    card_id = w.store.card_id(path)
    w.edits.set_fields([card_id], {"title": "<b>mine</b> <img src=/etc/hosts>"}, "Edit title")
    text = path.read_text(encoding="utf-8").replace(
        "quality: 50", 'quality: 51\nexcerpt: "<img src=/etc/hosts>"'
    )
    path.write_text(text, encoding="utf-8")
    w.rescan()
    assert w.store.detail(card_id).conflict
    w.files.resolve(card_id)
    dialog = w.__dict__["dialogs"][-1]
    dialog.show()
    assert unsafe_texts(dialog) == []


def test_rows_without_a_card_never_reach_an_edit(edit_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The monkey run's 11 tracebacks: selected rows whose page, read after the library changed, is short."""
    w = edit_window
    w.edits.confirm = lambda _dialog: True  # the bulk confirmation, answered yes
    w.edits.ask_gate = lambda _gate: "all"  # the publishing gate (duplicates, problems): publish all
    w.apply_query("published:false")
    total = w.model.total
    assert total > w.model.page_size + 20
    model, selection = w.model, w.table.selectionModel()
    selection.select(
        QItemSelection(model.index(0, 0), model.index(total - 1, len(Column) - 1)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    # Another process publishes the cards past the first page: that page, read now, comes back short.
    outside = w.store.ids("published:false", sort=[("date", True)])[w.model.page_size :]
    w.store.set_fields(outside, {"published": True}, label="Publish elsewhere")
    ids = w.selected_ids()
    assert len(ids) < total and None not in ids
    before = w.store.totals().dirty
    w.actions.heat_up.trigger()  # through the real action: no traceback, only real cards edited
    w.actions.publish.trigger()
    assert w.store.totals().dirty >= before
    assert w.current_id() is None or isinstance(w.current_id(), int)
    # A current row past the end of what the query now returns: no card, no edit, no crash.
    w.model._total += 5
    w.table.selectionModel().setCurrentIndex(
        model.index(w.model._total - 1, 1), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    assert w.current_id() is None
    w.actions.open_source.trigger()


def test_import_errors_are_named_kept_and_cleared_when_fixed(edit_window, tmp_path, captured, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = edit_window
    folder = tmp_path / "incoming"
    folder.mkdir()
    good = folder / "good.md"
    good.write_text('---\ntitle: "Good"\n---\n', encoding="utf-8")
    bad = folder / "bad.md"
    bad.write_text('---\ntitle: "unterminated\nquality: [1, 2\n---\n', encoding="utf-8")
    w.import_paths([str(folder)])
    entries = w.problems.of_kind("import")
    assert [e.path for e in entries] == [str(bad)] and entries[0].reason
    message = w.statusBar().currentMessage()
    assert "bad.md" in message and "Problems Report" in message
    assert w.status_line.problems_button.isVisible() and "1 problem" in w.status_line.problems_button.text()
    dialog = w.help.show_problems()
    assert str(bad) in dialog.text() and "\t" in dialog.text()
    dialog.copy_all()
    assert str(bad) in QApplication.clipboard().text()
    # The watcher's rescans meet the same failure: it is not announced again.
    w.statusBar().clearMessage()
    w.rescan(quiet=True)
    assert w.statusBar().currentMessage() == "" and len(w.problems.of_kind("import")) == 1
    # Fixed: the next import clears it.
    bad.write_text('---\ntitle: "Fixed"\n---\n', encoding="utf-8")
    w.import_paths([str(folder)])
    assert w.problems.of_kind("import") == [] and not w.status_line.problems_button.isVisible()
    assert not captured


def test_a_stopped_import_names_what_was_imported_once_and_logs_the_traceback(
    edit_window,
    tmp_path,
    captured,
    monkeypatch,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    w = edit_window
    log = errorlog.install(tmp_path / "log" / "curator.log")
    try:
        from curator.core import importer

        def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("a bug in the importer")

        monkeypatch.setattr(importer, "import_paths", broken)
        folder = tmp_path / "cards <b>"
        folder.mkdir()
        w.import_paths([str(folder)])
        assert len(captured) == 1 and str(folder) in captured[0].text()
        assert captured[0].textFormat() == Qt.TextFormat.PlainText
        assert "a bug in the importer" in log.read_text(encoding="utf-8") and "Traceback" in log.read_text(
            encoding="utf-8"
        )
        QApplication.processEvents()  # the bug signal is queued
        assert any(p.kind == "bug" and str(log) in p.reason for p in w.problems.problems())
        w.rescan(quiet=True)  # the watcher: the same failure again, no second dialog
        w.rescan(quiet=True)
        assert len(captured) == 1
    finally:
        errorlog.uninstall()


def test_a_library_locked_by_another_process_never_freezes_the_window(edit_window, captured, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = edit_window
    # The checks refresh (1.5 s after start) runs inline under this window's SyncPool, where the app runs it on
    # a worker: it would stall this test's event loop, not the app's.
    w.checks.timer.stop()
    card_id = w.current_id()
    assert card_id is not None
    before = w.store.detail(card_id)
    batches = len(w.store.history(1000))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    meter = QTimer()
    meter.timeout.connect(tick)
    meter.start(10)
    locker = LockHolder(w.store.path)
    try:
        last[0] = time.perf_counter()
        gaps.clear()
        w.actions.publish.trigger() if not before.published else w.actions.unpublish.trigger()
        qtbot.waitUntil(
            lambda: bool(captured), timeout=(library_busy.RETRIES + 2) * library_busy.RETRY_MS + 3000
        )
        assert "busy" in captured[0].text() and "not applied" in captured[0].text()
        after = w.store.detail(card_id)
        assert after.published == before.published and after.pending == before.pending
        assert len(w.store.history(1000)) == batches  # nothing half-applied, no batch recorded
        assert max(gaps) < 0.5, f"the event loop stalled {max(gaps):.2f} s"
        # Released during the retries: the edit goes through once.
        w.actions.publish.trigger() if not before.published else w.actions.unpublish.trigger()
        QTimer.singleShot(library_busy.RETRY_MS // 2, lambda: locker.release(wait=False))
        qtbot.waitUntil(lambda: w.store.detail(card_id).published != before.published or len(captured) > 1,
                        timeout=5000)  # fmt: skip
        assert len(captured) == 1, captured[-1].text()
        assert len(w.store.history(1000)) == batches + 1 and len(captured) == 1
        assert max(gaps) < 0.5
    finally:
        meter.stop()
        locker.release()
