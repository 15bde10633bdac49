"""The task view: a timeline of the task's events beside tabs showing its state.

Live, the view follows the newest event. Stepping (arrow keys, a click on the timeline,
a jump or a search) switches to replay: every tab then shows the state folded up to the
selected event.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from tui import views
from tui.messages import StoreChanged
from tui.model import Projection, Snapshot, TaskRecord
from tui.screens import PromptScreen
from tui.search_tree import SearchTreeView

TABS = ("design", "code", "diff", "verify", "decisions", "llm", "tree")


class TaskScreen(Screen[None]):
    """One task, live or replayed: redrawn on a `StoreChanged` that names its stream and
    when the app's theme changes."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "back"),
        Binding("left", "step(-1)", "◀ event", priority=True),
        Binding("right", "step(1)", "event ▶", priority=True),
        Binding("home", "first", "first", show=False, priority=True),
        Binding("end", "live", "live", priority=True),
        Binding("g", "jump", "jump"),
        Binding("slash", "search", "search"),
        Binding("n", "next_match(1)", "next", show=False),
        Binding("N", "next_match(-1)", "prev", show=False),
        Binding("left_square_bracket", "diff_version('old', -1)", "diff from-", show=False),
        Binding("right_square_bracket", "diff_version('old', 1)", "diff from+", show=False),
        Binding("left_curly_bracket", "diff_version('new', -1)", "diff to-", show=False),
        Binding("right_curly_bracket", "diff_version('new', 1)", "diff to+", show=False),
        *(Binding(str(i + 1), f"tab('{name}')", name, show=False) for i, name in enumerate(TABS)),
    ]
    DEFAULT_CSS = """
    TaskScreen #task-header { height: 1; background: $boost; padding: 0 1; }
    TaskScreen #timeline { width: 46; min-width: 30; border-right: solid $primary-darken-2; }
    TaskScreen TabbedContent { width: 1fr; }
    TaskScreen TabPane { padding: 0; }
    TaskScreen VerticalScroll { height: 1fr; }
    """

    def __init__(self, projection: Projection, stream: str) -> None:
        super().__init__()
        self.projection = projection
        self.stream = stream
        self.index: int | None = None  # None: live, following the newest event
        self.search_text = ""
        self.diff_old: int | None = None  # 1-based code versions; None: the last two
        self.diff_new: int | None = None
        self._shown_rows = 0
        self._rendered: dict[str, object] = {}

    @property
    def record(self) -> TaskRecord:
        return self.projection.tasks[self.stream]

    def compose(self) -> ComposeResult:
        yield Static(id="task-header")
        with Horizontal():
            table: DataTable[str] = DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
            table.add_columns("seq", "event", "detail")
            yield table
            with TabbedContent(*TABS, id="tabs"):
                for name in TABS[:-1]:
                    with TabPane(name, id=f"tab-{name}"), VerticalScroll():
                        yield Static(id=f"view-{name}")
                with TabPane("tree", id="tab-tree"):
                    yield SearchTreeView(id="view-tree")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()
        self.query_one("#timeline", DataTable).focus()
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def on_store_changed(self, message: StoreChanged) -> None:
        if self.stream in message.streams:
            self.refresh_view()

    def _theme_changed(self) -> None:
        if self.is_current:
            self.refresh_view()

    # --- what is shown -------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        record = self.record
        return record.live() if self.index is None else record.as_of(self.index)

    def refresh_view(self) -> None:
        """Bring the timeline and every tab up to date (called on new events too)."""
        record = self.record
        self._extend_timeline(record)
        snap = self.snapshot()
        self._show_header(record, snap)
        dark = self.app.current_theme.dark
        calls = list(snap.calls.values())
        versions = views.code_versions(snap)
        tabs: dict[str, tuple[Callable[[], RenderableType], object]] = {
            "design": (lambda: views.design(snap), snap.state.design),
            "code": (lambda: views.code(snap, dark), (versions[-1:], dark)),
            "diff": (
                lambda: views.diff(snap, self.diff_old, self.diff_new),
                (len(versions), self.diff_old, self.diff_new),
            ),
            "verify": (lambda: views.verify(snap), snap.state.attempts),
            "decisions": (
                lambda: views.decisions(snap),
                (snap.state.decisions, snap.state.finished),
            ),
            "llm": (lambda: views.llm(snap), [(c.status, len(c.text)) for c in calls]),
        }
        self.query_one("#view-tree", SearchTreeView).show(snap.state, dark)
        for name, (make, key) in tabs.items():
            if self._rendered.get(name) == key:
                continue
            self._rendered[name] = key
            self.query_one(f"#view-{name}", Static).update(make())
        self._place_cursor(snap.index)

    def _extend_timeline(self, record: TaskRecord) -> None:
        table = self.query_one("#timeline", DataTable)
        new = range(self._shown_rows, len(record.events))
        table.add_rows(
            (
                str(record.events[i].seq),
                record.events[i].type,
                views.event_summary(record.events[i], record.decoded[i]),
            )
            for i in new
        )
        self._shown_rows = len(record.events)

    def _show_header(self, record: TaskRecord, snap: Snapshot) -> None:
        spec = snap.state.spec or record.state.spec
        name = (
            f"{self.stream} · {spec.op_name} · {spec.backend}/{spec.arch}" if spec else self.stream
        )
        total = len(record.events)
        if self.index is None:
            mode = f"LIVE · {total} events"
        else:
            at = record.events[snap.index] if snap.index >= 0 else None
            where = f" · {at.type}" if at else ""
            mode = f"REPLAY · event {snap.index + 1}/{total}{where}"
        status = snap.state.status if snap.state.finished is None else snap.state.finished.reason
        self.query_one("#task-header", Static).update(
            f"[b]{name}[/b] · step {snap.state.step} · {status} · [reverse] {mode} [/reverse]"
        )

    def _place_cursor(self, index: int) -> None:
        table = self.query_one("#timeline", DataTable)
        if 0 <= index < table.row_count and table.cursor_row != index:
            table.move_cursor(row=index, animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._replay_at(event.cursor_row)

    # --- replay --------------------------------------------------------------------------

    def _replay_at(self, index: int) -> None:
        last = len(self.record.events) - 1
        self.index = max(0, min(index, last))
        self.refresh_view()

    def action_step(self, delta: int) -> None:
        current = len(self.record.events) - 1 if self.index is None else self.index
        self._replay_at(current + delta)

    def action_first(self) -> None:
        self._replay_at(0)

    def action_live(self) -> None:
        self.index = None
        self.refresh_view()

    def action_jump(self) -> None:
        self.app.push_screen(
            PromptScreen("Jump to step N, or to event #SEQ"), callback=self._jump_to
        )

    def _jump_to(self, answer: str | None) -> None:
        if not answer:
            return
        target = self.find_jump(self.record, answer.strip())
        if target is None:
            self.notify(f"no step or event {answer.strip()!r} in this task", severity="warning")
            return
        self._replay_at(target)

    @staticmethod
    def find_jump(record: TaskRecord, answer: str) -> int | None:
        """Index of event #SEQ, or of the first event of step N."""
        wanted = answer.lstrip("#")
        if not wanted.isdigit():
            return None
        number = int(wanted)
        for i, stored in enumerate(record.events):
            if answer.startswith("#") and stored.seq == number:
                return i
            is_step = stored.type == "step.started" and stored.payload.get("step") == number
            if not answer.startswith("#") and is_step:
                return i
        return None

    def action_search(self) -> None:
        self.app.push_screen(PromptScreen("Search events", self.search_text), callback=self._search)

    def _search(self, answer: str | None) -> None:
        if answer is None:
            return
        self.search_text = answer.strip()
        self.action_next_match(1)

    def action_next_match(self, direction: int) -> None:
        if not self.search_text:
            self.notify("no search yet: press / to search", severity="warning")
            return
        needle = self.search_text.lower()
        events = self.record.events
        start = len(events) - 1 if self.index is None else self.index
        for k in range(1, len(events) + 1):
            i = (start + direction * k) % len(events)
            if needle in views.event_text(events[i]):
                self._replay_at(i)
                return
        self.notify(f"no event matches {self.search_text!r}", severity="warning")

    # --- tabs and diff -------------------------------------------------------------------

    def action_tab(self, name: str) -> None:
        self.query_one("#tabs", TabbedContent).active = f"tab-{name}"

    def action_diff_version(self, which: str, delta: int) -> None:
        """Move the diff's "from" (`old`) or "to" (`new`) version by `delta`."""
        count = len(views.code_versions(self.snapshot()))
        if count < 2:
            return
        new = count if self.diff_new is None else min(self.diff_new, count)
        old = new - 1 if self.diff_old is None else min(self.diff_old, count)
        if which == "old":
            old = max(1, min(old + delta, count))
        else:
            new = max(1, min(new + delta, count))
        self.diff_old, self.diff_new = old, new
        self.action_tab("diff")
        self.refresh_view()

    def action_back(self) -> None:
        self.app.pop_screen()
