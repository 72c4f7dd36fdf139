"""Modal screens: confirmations for destructive actions, the create form, details."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from roocode_tui.core.config_file import check_collection_name
from roocode_tui.core.display import inert


class ConfirmModal(ModalScreen[bool]):
    """Yes / no. Escape or n says no."""

    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str, yes: str = "Yes", danger: bool = True) -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Static(Text(inert(self.question)), classes="modal-question")
            with Horizontal(classes="modal-buttons"):
                yield Button(f"{self.yes_label} (y)", id="yes", variant="error" if self.danger else "primary")
                yield Button("No (n)", id="no")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TypeNameModal(ModalScreen[bool]):
    """Deleting asks for the collection's name to be typed."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str, points: int) -> None:
        super().__init__()
        self.target = name
        self.points = points

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Static(
                Text(
                    inert(
                        f"Delete collection {self.target!r} and its {self.points:,} points?\nType its name to confirm."
                    )
                ),
                classes="modal-question",
            )
            yield Input(placeholder=self.target, id="confirm-name")
            with Horizontal(classes="modal-buttons"):
                yield Button("Delete", id="delete", variant="error", disabled=True)
                yield Button("Cancel (Esc)", id="cancel")

    @on(Input.Changed, "#confirm-name")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#delete", Button).disabled = event.value != self.target

    @on(Input.Submitted, "#confirm-name")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value == self.target:
            self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete")

    def action_cancel(self) -> None:
        self.dismiss(False)


class CreateCollectionModal(ModalScreen[dict[str, Any] | None]):
    """Name, paths (or an installed package), include and exclude globs; the new collection is
    indexed from F2."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal modal-form"):
            yield Label("New collection", classes="section-title")
            yield Input(placeholder="name (letters, digits, - _ .)", id="new-name")
            yield Input(placeholder="paths, comma-separated (e.g. ~/src/project, ~/docs)", id="new-paths")
            yield Input(placeholder="or an installed library: NAME (PyPI) or npm:NAME", id="new-package")
            yield Input(placeholder="include globs, comma-separated (empty: all text files)", id="new-include")
            yield Input(placeholder="exclude globs, comma-separated", id="new-exclude")
            yield Static("", id="new-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def _values(self) -> dict[str, Any] | None:
        def split(widget_id: str) -> list[str]:
            return [x.strip() for x in self.query_one(widget_id, Input).value.split(",") if x.strip()]

        def refuse(why: str) -> None:
            self.query_one("#new-error", Static).update(Text(why, style="red"))

        name = self.query_one("#new-name", Input).value.strip()
        paths = split("#new-paths")
        package = self.query_one("#new-package", Input).value.strip()
        ecosystem = "pypi"
        if package.startswith("npm:"):
            ecosystem, package = "npm", package[4:].strip()
        if package and paths:
            refuse("paths or a library, not both")
            return None
        if not package and not paths:
            refuse("give at least one path, or a library")
            return None
        if name or not package:  # a library's collection is lib-NAME unless named
            try:
                check_collection_name(name)
            except ValueError as exc:
                refuse(str(exc))
                return None
        out: dict[str, Any] = {"name": name, "paths": paths}
        if package:
            out["package"], out["ecosystem"] = package, ecosystem
        return {**out, "include": split("#new-include"), "exclude": split("#new-exclude")}

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def _create(self) -> None:
        values = self._values()
        if values is not None:
            self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class DetailsModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,i", "dismiss", "Close")]

    def __init__(self, title: str, fields: dict[str, Any]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        text = Text()
        for key, value in self.fields.items():
            text.append(f"{key:>16}  ", style="bold")
            text.append(inert(str(value)) + "\n")
        with Vertical(classes="modal modal-wide"):
            yield Label(Text(inert(self.title_text)), classes="section-title")
            with VerticalScroll():
                yield Static(text)
            yield Button("Close (Esc)", id="close")

    @on(Button.Pressed)
    def _close(self) -> None:
        self.dismiss(None)


class RestoreSnapshotModal(ModalScreen[dict[str, Any] | None]):
    """Which snapshot file of a collection, and the new collection's name."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, collection: str, files: list[Any]) -> None:
        super().__init__()
        self.collection = collection
        self.files = files  # snapshots.Snapshot, oldest first

    def compose(self) -> ComposeResult:
        from textual.widgets import Select

        options = [(inert(f"{s.created_at or '?'}  {s.name}"), str(s.path)) for s in reversed(self.files)]
        with Vertical(classes="modal modal-form"):
            yield Label(
                Text(inert(f"Restore a snapshot of {self.collection} as a new collection")), classes="section-title"
            )
            yield Select(options, value=options[0][1], allow_blank=False, id="restore-file")
            yield Input(value=f"{self.collection}-restored", placeholder="new collection name", id="restore-name")
            yield Static("", id="restore-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Restore", id="restore", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    @on(Button.Pressed, "#restore")
    @on(Input.Submitted)
    def _restore(self) -> None:
        from pathlib import Path

        from textual.widgets import Select

        name = self.query_one("#restore-name", Input).value.strip()
        try:
            check_collection_name(name)
        except ValueError as exc:
            self.query_one("#restore-error", Static).update(Text(str(exc), style="red"))
            return
        self.dismiss({"name": name, "file": Path(str(self.query_one("#restore-file", Select).value))})

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
