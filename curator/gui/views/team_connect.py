"""File > Connect to Team Library…: a PostgreSQL server's address in fields (or a URL), a password only when
the server asks for one, and the errors as sentences.

Why the password appears late: libpq finds it in ``~/.pgpass``, ``PGPASSFILE`` or ``PGPASSWORD`` first
(the team's administrator sets one of those up once); only when it finds none, or the one it found is
refused, does the dialog show a password field. What is typed there goes into the Store's connections
and nowhere else: settings keep the URL without a password (:func:`curator.core.backend.team.remembered`).

The connection is opened on a worker (an unreachable server takes up to the connect timeout to say so),
so the dialog stays responsive and can be cancelled meanwhile.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from curator.core.backend import team
from curator.core.store import Store
from curator.core.store_types import LibraryError
from curator.gui import errorlog, library_busy, plain
from curator.gui.workers import Pool, run_task

if TYPE_CHECKING:
    from curator.core.backend.team import PasswordRequest
    from curator.gui.views.main_window import MainWindow

#: libpq's sslmode values, safest-sounding default first: "prefer" uses SSL when the server offers it.
SSL_MODES = ("prefer", "require", "verify-full", "verify-ca", "allow", "disable")
DEFAULT_PORT = 5432


def compose_url(host: str, port: int, database: str, user: str, sslmode: str) -> str:
    """The libpq URL of the fields (no password: that never goes in a URL Curator makes)."""
    auth = f"{quote(user, safe='')}@" if user else ""
    where = host if ":" not in host or host.startswith("[") else f"[{host}]"  # an IPv6 address
    port_part = f":{port}" if port and port != DEFAULT_PORT else ""
    query = f"?sslmode={sslmode}" if sslmode and sslmode != "prefer" else ""
    return f"postgresql://{auth}{where}{port_part}/{quote(database, safe='')}{query}"


def split_url(url: str) -> dict[str, str | int] | None:
    """The fields of a libpq URL (host, port, database, user, sslmode); None when it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORT
    except ValueError:
        return None
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        return None
    params = dict(parse_qsl(parts.query))
    return {
        "host": parts.hostname or params.get("host", ""),
        "port": port,
        "database": unquote(parts.path.lstrip("/")) or params.get("dbname", ""),
        "user": unquote(parts.username or "") or params.get("user", ""),
        "sslmode": params.get("sslmode", "prefer"),
    }


def password_prompt(request: PasswordRequest) -> str:
    """What the password field's label says: none was found, or the one given was refused."""
    who = f" for {request.user}" if request.user else ""
    if request.failed:
        return f"The server refused the password{who}. Type it again:"
    return f"The server needs a password{who} (none was found in ~/.pgpass or PGPASSWORD):"


def _ask_password(parent: QWidget | None, request: PasswordRequest) -> str | None:
    text, ok = QInputDialog.getText(
        parent, "Team library password", f"{request.display}\n\n{password_prompt(request)}",
        QLineEdit.EchoMode.Password,
    )  # fmt: skip
    return text if ok else None


#: Asks for a password when the app opens a team library at start-up (tests replace it to answer).
ask_password: Callable[[QWidget | None, PasswordRequest], str | None] = _ask_password


class TeamConnectDialog(QDialog):
    """The connect dialog; `connected(store, location)` once a library opened (location: the URL typed,
    which may hold a password of its own: the caller keeps only :func:`team.remembered` of it)."""

    connected = Signal(object, str)

    def __init__(
        self, parent: QWidget | None = None, *, pool: Pool | None = None, last: str = "",
        root_map: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:  # fmt: skip
        """``root_map``: this editor's root map (app.root_map), read when Connect is pressed; a bad entry
        is said like any other reason the library did not open."""
        super().__init__(parent)
        self.root_map = root_map
        self.setWindowTitle("Connect to Team Library")
        self.setObjectName("teamConnect")
        self.pool = pool
        self.store: Store | None = None
        self._syncing = False
        self._attempt = 0  # of Connect presses: a late answer to an earlier one is dropped

        self.host = QLineEdit()
        self.host.setPlaceholderText("db.newsroom.example")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.database = QLineEdit()
        self.database.setPlaceholderText("curator")
        self.user = QLineEdit(getpass.getuser())
        self.sslmode = QComboBox()
        self.sslmode.addItems(SSL_MODES)
        self.sslmode.setToolTip("libpq's sslmode: prefer uses SSL when the server offers it; "
                                "verify-full also checks the server's certificate and name")  # fmt: skip
        self.url = QLineEdit()
        self.url.setPlaceholderText("postgresql://user@host/dbname")
        self.url.setToolTip("The whole address as libpq reads it; every libpq parameter works here")
        self.password_label = plain.label(wrap=True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setObjectName("teamPassword")
        self.error = plain.label(wrap=True)
        self.error.setObjectName("connectError")
        self.error.hide()
        self.status = plain.label()
        self.status.setObjectName("detailMeta")

        form = QFormLayout()
        form.addRow("Host:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("Database:", self.database)
        form.addRow("User:", self.user)
        form.addRow("SSL:", self.sslmode)
        form.addRow("or URL:", self.url)
        # The prompt wraps: in a QVBoxLayout (a QFormLayout row would not grow to its wrapped height).
        secret = QFormLayout()
        secret.addRow("Password:", self.password)
        self._form = secret
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setDefault(True)
        self.buttons.accepted.connect(self.start_connect)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        self.intro = plain.label(
            "A team library is one library on a PostgreSQL server that every editor of the newsroom opens: "
            "edits show to the others within seconds, and no one overwrites another's. Your IT person gives "
            "you the server and database. The password comes from ~/.pgpass or PGPASSWORD, or Curator asks "
            "for it; it is never saved.", wrap=True,
        )  # fmt: skip
        self.intro.setObjectName("detailMeta")
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.password_label)
        layout.addLayout(secret)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._show_password(None)

        for field in (self.host, self.database, self.user):
            field.textChanged.connect(self._fields_changed)
        self.port.valueChanged.connect(self._fields_changed)
        self.sslmode.currentIndexChanged.connect(self._fields_changed)
        self.url.textEdited.connect(self._url_edited)
        fields = split_url(last) if last else None
        if fields:
            self._fill(fields)
        self._fields_changed()
        self.setMinimumWidth(460)

    # -- the address --------------------------------------------------------------------------------
    def location(self) -> str:
        """The URL to connect to (what the URL field shows: the fields composed, or typed whole)."""
        return self.url.text().strip()

    def _fields_changed(self, *_args: object) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.url.setText(compose_url(self.host.text().strip(), self.port.value(), self.database.text().strip(),
                                     self.user.text().strip(), self.sslmode.currentText()))  # fmt: skip
        self.url.setCursorPosition(0)  # the start (user@host) is what tells one server from another
        self._syncing = False
        self._update_button()

    def _url_edited(self, text: str) -> None:
        fields = split_url(text)
        if fields:
            self._syncing = True
            self._fill(fields)
            self._syncing = False
        self._update_button()

    def _fill(self, fields: dict[str, str | int]) -> None:
        self.host.setText(str(fields["host"]))
        self.port.setValue(int(fields["port"]))
        self.database.setText(str(fields["database"]))
        self.user.setText(str(fields["user"]))
        mode = str(fields["sslmode"])
        if self.sslmode.findText(mode) < 0:
            self.sslmode.addItem(mode)
        self.sslmode.setCurrentText(mode)

    def _update_button(self) -> None:
        fields = split_url(self.location())
        self.connect_button.setEnabled(bool(fields and fields["database"]))

    def _show_password(self, request: PasswordRequest | None) -> None:
        visible = request is not None
        self.password_label.setText(password_prompt(request) if request else "")
        for widget in (self.password_label, self.password, self._form.labelForField(self.password)):
            if widget is not None:
                widget.setVisible(visible)
        if request is not None:
            if request.failed:
                self.password.selectAll()
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # -- connecting ---------------------------------------------------------------------------------
    def start_connect(self) -> None:
        """Connect on a worker; the dialog closes when the library opened, else says what went wrong."""
        location = self.location()
        fields = split_url(location)
        if not fields or not fields["database"]:
            self.show_error("Give the server's database name (or a postgresql://user@host/dbname URL).")
            return
        password = self.password.text() if self.password.isVisible() else None
        try:  # here, on the GUI thread that owns the settings
            mapping = self.root_map() if self.root_map is not None else None
        except ValueError as err:  # a malformed root map entry: said like any reason not to open
            self.failed(err)
            return
        self._attempt += 1
        attempt = self._attempt
        self.show_error("")
        self.status.setText(f"Connecting to {team.title(location)}…")
        self.connect_button.setEnabled(False)

        def work(_progress: object, _cancelled: object) -> Store:
            store = Store(location, busy_timeout=library_busy.GUI_BUSY_TIMEOUT, password=password or None,
                          root_map=mapping)  # fmt: skip
            store.close()  # this worker thread's connection; the window's threads open their own
            return store

        def done(store: Store) -> None:
            if not shiboken6.isValid(self) or attempt != self._attempt:
                return
            self.status.setText("")
            self.store = store
            self.connected.emit(store, location)
            self.accept()

        def failed(err: BaseException) -> None:
            if not shiboken6.isValid(self) or attempt != self._attempt:
                return
            self.status.setText("")
            self.connect_button.setEnabled(True)
            self.failed(err)

        run_task(work, on_done=done, on_error=failed, pool=self.pool)

    def failed(self, err: BaseException) -> None:
        """Say why the library did not open: a password field when that is what it takes, else a sentence."""
        request = team.password_request(err)
        if request is not None:
            self._show_password(request)
            self.show_error("")
            return
        sentence = team.connect_problem(err)
        if sentence is None and isinstance(err, (LibraryError, ValueError)):
            sentence = f"Cannot open the library: {err}"
        elif sentence is None:  # not the server's doing: Curator's own bug, logged with its traceback
            errorlog.log_failure("Connecting to a team library", err)
            sentence = (
                f"Cannot open the library because of an error in Curator ({type(err).__name__}: {err})."
            )
        self.show_error(sentence)

    def reject(self) -> None:
        self._attempt += 1  # a connection still opening is dropped when it arrives
        super().reject()


def open_dialog(window: MainWindow) -> TeamConnectDialog:
    """File > Connect to Team Library…: the dialog, window-modal; a library that opens replaces the window's."""
    from curator.gui import app as gui_app
    from curator.gui import settings as keys

    last = window.settings.value(keys.LAST_LIBRARY)
    dialog = TeamConnectDialog(window, pool=window.pool, last=last if split_url(last) else "",
                               root_map=lambda: gui_app.root_map(window.settings))  # fmt: skip
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.connected.connect(lambda store, location: gui_app.switch_library(window, store, location))
    dialog.open()
    window.connect_dialog = dialog  # type: ignore[attr-defined]  # tests and screenshots reach it here
    return dialog
