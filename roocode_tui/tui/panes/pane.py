"""What every pane has: the app by its type, the collection an action taken in it acts on, and
its workers' errors shown by the app's one handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the app's module imports the panes: its type is for annotations only
    from textual.worker import Worker

    from roocode_tui.tui.app import RoocodeApp


class Pane:
    """Mixed into each pane ahead of its Textual container (``class IndexPane(Pane, Vertical)``);
    a plain class, not a widget, so the pane's styles stay its container's."""

    @property
    def app(self) -> RoocodeApp:
        """Textual's ``app``, by its type."""
        return cast("RoocodeApp", super().app)  # type: ignore[misc]

    def target_collection(self) -> str | None:
        """The collection a command acts on while this pane is shown: the one searched, unless
        the pane has one picked (F2, F4)."""
        return self.app.active

    def focus_pane(self) -> None:
        """The pane was shown: focus what its keys act on."""

    def writes_refused(self) -> bool:
        if self.app.settings.read_only:
            self.app.notify("read-only mode: this would write to the store", severity="warning")
            return True
        return False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker's state goes to its own node and no further: the app's handler shows the
        errors of this pane's workers too."""
        self.app.on_worker_state_changed(event)
