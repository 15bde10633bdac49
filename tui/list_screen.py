"""The first screen: every task in a sortable, filterable table, and the devices panel."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input

from tui.devices_panel import DevicesPanel
from tui.format import COLUMNS, Row, task_row
from tui.messages import ClockTicked, OpenTask, StoreChanged
from tui.model import Projection


class ListScreen(Screen[None]):
    """The task list; `refresh_list()` redraws it from the projection, on every
    `StoreChanged` and `ClockTicked`; choosing a task posts `OpenTask`."""

    BINDINGS = [  # noqa: RUF012
        Binding("slash", "filter", "filter"),
        Binding("s", "sort_next", "sort"),
        Binding("r", "sort_reverse", "reverse"),
    ]
    DEFAULT_CSS = """
    ListScreen #filter { height: 3; margin: 0 1; }
    ListScreen #tasks { height: 1fr; }
    """

    def __init__(self, projection: Projection, now: Callable[[], float]) -> None:
        super().__init__()
        self.projection = projection
        self.now = now
        self.sort_column = 0
        self.sort_reverse = False
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter tasks (press / )", id="filter")
        table: DataTable[str] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield DevicesPanel(id="devices")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tasks", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a task view: catch up with what changed meanwhile."""
        if self.projection.position:
            self.refresh_list()

    def on_store_changed(self, _: StoreChanged) -> None:
        self.refresh_list()

    def on_clock_ticked(self, _: ClockTicked) -> None:
        self.refresh_list()

    def rows(self) -> list[Row]:
        """Task-list rows after filtering and sorting."""
        now = self.now()
        rows = [task_row(r, now) for r in self.projection.task_records()]
        rows = [row for row in rows if row.matches(self.filter_text)]
        rows.sort(key=lambda row: (row.sort_keys[self.sort_column], row.key))
        if self.sort_reverse:
            rows.reverse()
        return rows

    def refresh_list(self) -> None:
        table = self.query_one("#tasks", DataTable)
        selected = None
        if table.row_count and table.cursor_row >= 0:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for row in self.rows():
            table.add_row(*row.cells, key=row.key)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        label = COLUMNS[self.sort_column][1] + (" ▼" if self.sort_reverse else " ▲")
        table.border_subtitle = f"sorted by {label}"
        self.query_one(DevicesPanel).show(self.projection.devices, self.now())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenTask(event.row_key.value))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_index == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = event.column_index, False
        self.refresh_list()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_list()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.query_one("#tasks", DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_sort_next(self) -> None:
        self.sort_column = (self.sort_column + 1) % len(COLUMNS)
        self.refresh_list()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.refresh_list()
