"""The aikg dashboard: a read-only, live projection of the event store.

    AikgApp(db_path, task_id=None).run()

The app opens the store read-only, folds every stream once, then polls for events after
the last position it has seen (every `poll_s` seconds) and applies them to the cached
per-stream state, so updates cost only the new events. It never writes and never calls
an agent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from store import EventStore, StoreError
from tui.list_screen import ListScreen
from tui.messages import ClockTicked, OpenTask, StoreChanged
from tui.model import Projection
from tui.screens import HelpScreen
from tui.task_screen import TaskScreen

BATCH = 20_000


class AikgApp(App[None]):
    """The dashboard. `now` freezes the clock (tests); `poll_s` is the tail interval."""

    TITLE = "aikg"
    BINDINGS = [  # noqa: RUF012
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        Binding("t", "toggle_theme", "theme"),
    ]

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        task_id: str | None = None,
        *,
        now: float | None = None,
        poll_s: float = 0.2,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.pending_task = task_id
        self.frozen_now = now
        self.poll_s = poll_s
        self.projection = Projection()
        self.store: EventStore | None = None
        self.loaded = False
        self.sub_title = self.db_path.name

    def now(self) -> float:
        return self.frozen_now if self.frozen_now is not None else time.time()

    async def on_mount(self) -> None:
        try:
            self.store = await EventStore.open(self.db_path, readonly=True)
        except StoreError as exc:
            self.exit(return_code=2, message=str(exc))
            return
        await self.poll()  # the list draws what is there when it is shown
        await self.push_screen(ListScreen(self.projection, self.now))
        self.loaded = True
        if self.pending_task:
            self.notify(
                f"task {self.pending_task!r} is not in the store yet; it opens when it does"
            )
        self.set_interval(self.poll_s, self.poll)
        if self.frozen_now is None:
            self.set_interval(1.0, self.refresh_clock)

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.close()

    # --- the live tail ---------------------------------------------------------------------

    async def poll(self) -> None:
        """Apply every event after the last one seen, then refresh what changed."""
        assert self.store is not None
        changed: set[str] = set()
        while True:
            try:
                events = await self.store.read_all(self.projection.position, limit=BATCH)
            except StoreError as exc:  # e.g. locked for longer than the busy timeout
                self.notify(str(exc), severity="warning")
                break
            changed |= self.projection.apply(events)
            if len(events) < BATCH:
                break
        if changed:
            self.streams_changed(changed)

    def streams_changed(self, changed: set[str]) -> None:
        """Tell the screen on top, and open the task asked for once it is there."""
        self.screen.post_message(StoreChanged(frozenset(changed)))
        if self.pending_task and self.pending_task in self.projection.tasks:
            record = self.projection.tasks[self.pending_task]
            if record.is_task:
                self.pending_task = None
                self.post_message(OpenTask(record.stream))

    def on_open_task(self, message: OpenTask) -> None:
        self.push_screen(TaskScreen(self.projection, message.stream))

    def list_screen(self) -> ListScreen:
        """The task list, wherever it is in the screen stack."""
        return next(s for s in self.screen_stack if isinstance(s, ListScreen))

    def refresh_clock(self) -> None:
        """Elapsed times and device holding times move on with the clock."""
        self.screen.post_message(ClockTicked())

    # --- everywhere --------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def run_tui(db_path: str | os.PathLike[str], task_id: str | None = None) -> int:
    """Run the dashboard in this terminal until the user quits; returns the exit code."""
    app = AikgApp(db_path, task_id)
    app.run()
    return app.return_code or 0
