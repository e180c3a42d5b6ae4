"""Edit > Preferences…: the editor's name, the quality keys' step and where the shared folders are.

Three things an editor sets once and then forgets, each explained where it is set:

- **Your name** is what the library records with each edit (History and ``curator show``: "published by
  Ana 5 s ago"). Blank means the default, :func:`curator.core.store.default_editor` ($CURATOR_EDITOR, else
  the system's user name), shown as the field's placeholder. A change applies to the open library at once
  (``Store.set_editor``), so the next edit already carries it.
- **Quality keys**: the step the digit keys multiply (``Actions.set_quality_scale``).
- **Shared folders**: this editor's root map (``settings.ROOT_MAP``, curator/core/roots.py), one row per
  root the library has recorded. The map is applied when a library is opened (the Store translates every
  path through it from then on), so a change is saved now and takes effect the next time the library is
  opened; the dialog says so rather than pretending otherwise.

The root map setting is shared by every library this editor opens, so the dialog writes entries keyed by a
root's first-imported path (never by its id or label, which another library may not have: opening it would
then fail), keeps every entry about other libraries as it is, and only rewrites the rows the editor changed.
Cancel changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core import roots as core_roots
from curator.core.store import EDITOR_MAX, LibraryError, default_editor
from curator.gui import plain
from curator.gui import settings as keys
from curator.gui.actions import Actions, quality_for_digit
from curator.gui.settings import Settings

if TYPE_CHECKING:
    from curator.core.checks.thresholds import Thresholds
    from curator.core.roots import Root
    from curator.core.store import Store
    from curator.gui.library_tasks import RoundTrips


def _choose_folder(parent: QWidget, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, "Where is this folder on this computer?", start)


#: Asks for a folder (Browse…); returns "" when cancelled. Tests replace it to answer.
choose_folder: Callable[[QWidget, str], str] = _choose_folder

#: The quality keys' explanation (what ask_quality_scale's prompt said, now above the spin box).
QUALITY_TEXT = (
    "Each digit key sets the quality to the digit times this step (0 counts as 10; nothing goes above 100). "
    "With 10, the default: 1 sets 10, 5 sets 50, 9 sets 90 and 0 sets 100."
)
NAME_TEXT = (
    "Recorded with each of your edits and shown to the other editors of a team library in History "
    "(\u201cpublished by Ana 5 s ago\u201d). Leave it empty to use the name shown in grey. Undo steps back "
    "only the edits made under the name in use."
)
FOLDERS_TEXT = (
    "A team library remembers each folder where it was first imported. If that folder is mounted somewhere "
    "else on this computer, say where, and Curator reads and writes the cards there. Leave a row empty "
    "when the folder is at the same place."
)
APPLIES_LATER = "Changes to these folders apply the next time the library is opened."
CHECKS_TEXT = (
    "How alike cards must be for the Duplicates facet and the Same story section. These belong to the "
    "library: every editor of a team library, and the command line (curator dupes, related --suggest), "
    "use the same ones. Lower numbers find more, and more that are not."
)
#: The columns of the shared folders' table.
ORIGINAL_COLUMN, LOCAL_COLUMN, BROWSE_COLUMN = 0, 1, 2
#: Rows of roots shown before the table scrolls.
FOLDER_ROWS_SHOWN = 6
#: The step the quality keys' explanation gives its example for.
DEFAULT_STEP = keys.QUALITY_SCALE.default


def _names_root(key: str, root: Root) -> bool:
    """Whether a root map entry's ORIGINAL (a path, an id or a label) names ``root``."""
    return key in (root.path, str(root.id), root.label) or key.rstrip("/\\") == root.path.rstrip("/\\")


def mapped_entry(entries: Sequence[str], root: Root) -> str | None:
    """The LOCAL side of the last setting entry naming ``root`` (the one that wins), or None."""
    found = None
    for text in entries:
        key, eq, local = text.partition("=")
        if eq and _names_root(key.strip(), root):
            found = local.strip()
    return found


def updated_entries(entries: Sequence[str], changed: Sequence[tuple[Root, str]]) -> list[str]:
    """``entries`` with the entries naming each changed root replaced by ``ORIGINAL-PATH=LOCAL`` (none when
    LOCAL is blank or the root's own path: the folder is where it was imported). Other entries stay."""
    kept = [t for t in entries if not any(_names_root(t.partition("=")[0].strip(), r) for r, _ in changed)]
    added = [
        f"{r.path}={local}" for r, local in changed if local and local.rstrip("/\\") != r.path.rstrip("/\\")
    ]
    return [*kept, *added]


class PreferencesDialog(QDialog):
    """The dialog; OK (after checking the folders) saves every section and applies what applies now."""

    def __init__(
        self, settings: Settings, store: Store, actions: Actions, parent: QWidget | None = None, *,
        library: LibraryPrefs | None = None, trips: RoundTrips | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings, self.store, self.actions = settings, store, actions
        #: Where OK's writes to the library run (the window's trips); None: inline, on this thread.
        self.trips = trips
        self.setWindowTitle("Preferences")
        self.setObjectName("preferences")
        layout = QVBoxLayout(self)

        # 1. Your name
        name_box = QGroupBox("Your name")
        name_layout = QVBoxLayout(name_box)
        self.name = QLineEdit(settings.value(keys.EDITOR_NAME))
        self.name.setMaxLength(EDITOR_MAX)
        default = default_editor()
        self.name.setPlaceholderText(default or "(the system gives no user name)")
        self.name.setClearButtonEnabled(True)
        name_layout.addWidget(self.name)
        name_layout.addWidget(plain.label(NAME_TEXT, wrap=True))
        layout.addWidget(name_box)

        # 2. Quality keys
        quality_box = QGroupBox("Quality keys")
        quality_layout = QVBoxLayout(quality_box)
        quality_layout.addWidget(plain.label(QUALITY_TEXT, wrap=True))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.step = QSpinBox()
        self.step.setRange(1, 100)
        self.step.setValue(settings.value(keys.QUALITY_SCALE))
        form.addRow("Step:", self.step)
        self.step_example = plain.label()
        form.addRow("", self.step_example)
        quality_layout.addLayout(form)
        self.step.valueChanged.connect(self._show_step_example)
        self._show_step_example(self.step.value())
        layout.addWidget(quality_box)

        # 3. Shared folders
        folders_box = QGroupBox("Shared folders (team libraries)")
        folders_layout = QVBoxLayout(folders_box)
        folders_layout.addWidget(plain.label(FOLDERS_TEXT, wrap=True))
        library = library if library is not None else read_library(store)  # inline when not read before
        self.roots: list[Root] = list(library.roots)
        self._entries: list[str] = settings.value(keys.ROOT_MAP)
        self.folders = QTableWidget(len(self.roots), 3)
        self.folders.setHorizontalHeaderLabels(
            ["Folder as first imported", "Where it is on this computer", ""]
        )
        self.folders.verticalHeader().setVisible(False)
        # As tall as its rows (a library has a handful of roots), not a big empty box under one row.
        self.folders.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.folders.setMaximumHeight(FOLDER_ROWS_SHOWN * self.folders.verticalHeader().defaultSectionSize()
                                      + self.folders.horizontalHeader().sizeHint().height() + 4)  # fmt: skip
        self.folders.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.folders.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.folders.horizontalHeader()
        header.setSectionResizeMode(ORIGINAL_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(LOCAL_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(BROWSE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self._initial: list[str] = []
        #: The "Where it is on this computer" field of each row (blank: where it was first imported).
        self.locals: list[QLineEdit] = []
        for row, root in enumerate(self.roots):
            original = QTableWidgetItem(root.path)
            original.setFlags(Qt.ItemFlag.ItemIsEnabled)
            original.setToolTip(plain.tip(f"{root.path}\n(root {root.id}, {root.label})"))
            self.folders.setItem(row, ORIGINAL_COLUMN, original)
            entry = mapped_entry(self._entries, root)
            where = entry if entry is not None else store.local_root(root)
            local_text = "" if where.rstrip("/\\") == root.path.rstrip("/\\") else where
            self._initial.append(local_text)
            local = QLineEdit(local_text)
            local.setPlaceholderText("Same place")
            local.setToolTip(plain.tip(local_text) or "")
            local.textChanged.connect(lambda text, edit=local: edit.setToolTip(plain.tip(text) or ""))
            local.setFrame(False)
            self.locals.append(local)
            self.folders.setCellWidget(row, LOCAL_COLUMN, local)
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _checked=False, r=row: self.browse(r))
            self.folders.setCellWidget(row, BROWSE_COLUMN, browse)
        self.no_roots = plain.label("This library has no imported folders yet.", wrap=True)
        self.folders.setVisible(bool(self.roots))
        self.no_roots.setVisible(not self.roots)
        folders_layout.addWidget(self.folders)
        folders_layout.addWidget(self.no_roots)
        folders_layout.addWidget(plain.label(APPLIES_LATER, wrap=True))
        layout.addWidget(folders_box)

        # 4. Duplicates and same story (the library's thresholds)
        checks_box = QGroupBox("Duplicates and same story (this library)")
        checks_layout = QVBoxLayout(checks_box)
        checks_layout.addWidget(plain.label(CHECKS_TEXT, wrap=True))
        self.thresholds = library.thresholds
        checks_form = QFormLayout()
        checks_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.copy_ratio = QSpinBox()
        self.copy_ratio.setRange(50, 100)
        self.copy_ratio.setSuffix(" % alike")
        self.copy_ratio.setValue(round(self.thresholds.copy_ratio))
        checks_form.addRow("A copy: excerpts at least", self.copy_ratio)
        self.min_score = QDoubleSpinBox()
        self.min_score.setRange(0.05, 0.95)
        self.min_score.setSingleStep(0.05)
        self.min_score.setDecimals(2)
        self.min_score.setValue(self.thresholds.min_score)
        checks_form.addRow("Same story: a score of at least", self.min_score)
        self.window_days = QDoubleSpinBox()
        self.window_days.setRange(0.5, 30.0)
        self.window_days.setSingleStep(0.5)
        self.window_days.setDecimals(1)
        self.window_days.setSuffix(" days")
        self.window_days.setValue(self.thresholds.window_days)
        checks_form.addRow("Same story: published within ±", self.window_days)
        checks_layout.addLayout(checks_form)
        layout.addWidget(checks_box)
        #: Called after the thresholds changed (the window's checks refresh: the index is built again).
        self.on_checks_changed: Callable[[], None] = lambda: None
        layout.addStretch(1)

        self.error = plain.label(wrap=True)
        self.error.setObjectName("preferencesError")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(640, self.sizeHint().height())

    def _show_step_example(self, step: int) -> None:
        values = ", ".join(f"{d} sets {quality_for_digit(d, step)}" for d in (1, 5, 9, 0))
        self.step_example.setText(f"With {step}: {values}.")
        self.step_example.setVisible(step != DEFAULT_STEP)  # the explanation already gives the default's

    def local_text(self, row: int) -> str:
        """The folder typed (or chosen) for the root in ``row``."""
        return self.locals[row].text().strip()

    def browse(self, row: int) -> None:
        """Browse…: pick the folder for the root in ``row``."""
        start = self.local_text(row) or self.roots[row].path
        chosen = choose_folder(self, start if os.path.isdir(start) else os.path.expanduser("~"))
        if chosen:
            self.locals[row].setText(os.path.normpath(chosen))

    def folder_problem(self) -> str | None:
        """Why the folders as typed cannot be saved (a sentence naming the folder), or None."""
        for row, root in enumerate(self.roots):
            local = self.local_text(row)
            if local == self._initial[row] or not local:
                continue
            if "=" in root.path:
                return (f"{root.path} holds '=', which the root map cannot name: map it with "
                        f"--map-root {root.id}=… or ${core_roots.ENV_VAR} instead.")  # fmt: skip
            if not os.path.isabs(os.path.expanduser(local)):
                return f"Give the whole path of the folder for {root.path} (not {local!r})."
        return None

    def save(self) -> None:
        """OK: save all three sections and apply the name and the step now (the folders: next open).

        The settings are this computer's and saved at once; what goes to the library (the name the next
        edits carry, the thresholds) goes through the window's trips as one edit: on a team library on the
        edits lane, after the edits made before OK and before the ones made after it, never a round trip
        on the GUI thread. The dialog closes when the library took it (inline on SQLite: at once); a
        refusal (a read-only role, a lost server) is said in the dialog and the settings stay saved."""
        problem = self.folder_problem()
        if problem is not None:
            self.error.setText(problem)
            self.error.show()
            return
        name = self.name.text().strip()
        self.settings.set_value(keys.EDITOR_NAME, name)
        step = self.step.value()
        self.settings.set_value(keys.QUALITY_SCALE, step)
        self.actions.set_quality_scale(step)
        changed = [
            (root, os.path.expanduser(self.local_text(row)))
            for row, root in enumerate(self.roots)
            if self.local_text(row) != self._initial[row]
        ]
        if changed:
            self.settings.set_value(keys.ROOT_MAP, updated_entries(self._entries, changed))
        self.settings.sync()
        wanted = replace(self.thresholds, copy_ratio=float(self.copy_ratio.value()),
                         min_score=round(self.min_score.value(), 2), window_days=self.window_days.value())  # fmt: skip
        thresholds = wanted if wanted != self.thresholds else None
        checks_changed = self.on_checks_changed  # called even when the dialog was closed meanwhile

        def write(store: Store) -> None:
            store.set_editor(name or None)
            if thresholds is not None:
                store.set_check_thresholds(thresholds)

        def done(_none: None) -> None:
            if thresholds is not None:
                checks_changed()
            if shiboken6.isValid(self):
                if thresholds is not None:
                    self.thresholds = thresholds
                self.buttons.setEnabled(True)
                self.accept()

        def refused(err: BaseException) -> None:
            if self.trips is not None and not isinstance(err, LibraryError):
                self.trips.reporter("Saving the preferences")(err)  # a bug: logged
            if shiboken6.isValid(self):
                self.buttons.setEnabled(True)
                self.error.setText(f"The duplicates and same-story thresholds were not changed: {err}")
                self.error.show()

        self.buttons.setEnabled(False)  # one OK at a time while the library takes it
        if self.trips is None:
            try:
                write(self.store)
            except LibraryError as err:
                refused(err)
            else:
                done(None)
        else:
            self.trips.edit(write, done, refused)


@dataclass(frozen=True)
class LibraryPrefs:
    """What the dialog shows of the library itself: its imported folders and its checks thresholds."""

    roots: list[Root]
    thresholds: Thresholds


def read_library(store: Store) -> LibraryPrefs:
    """The library's part of the dialog (two round trips on a team library: read where the trips run)."""
    return LibraryPrefs(store.roots(), store.check_thresholds())


def open_dialog(settings: Settings, store: Store, actions: Actions, parent: QWidget,
                on_checks_changed: Callable[[], None] | None = None, *,
                trips: RoundTrips | None = None) -> PreferencesDialog | None:  # fmt: skip
    """Edit > Preferences…: the dialog, window-modal, deleted when closed; `on_checks_changed` after OK
    changed the library's thresholds (the window refreshes its checks). `trips`: where the library's part
    is read (the window's: on a team library off the GUI thread, the dialog opening when it arrives).
    Returns the dialog when it opened before this returns (inline), else None."""
    opened: list[PreferencesDialog] = []

    def show(library: LibraryPrefs) -> None:
        if not shiboken6.isValid(parent):
            return
        dialog = PreferencesDialog(settings, store, actions, parent, library=library, trips=trips)
        if on_checks_changed is not None:
            dialog.on_checks_changed = on_checks_changed
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        opened.append(dialog)

    if trips is None:
        show(read_library(store))
    else:
        trips.read(read_library, show, trips.reporter("Reading the library's preferences"))
    return opened[0] if opened else None
