"""The devices panel: each device and its holder, the queue, and a utilisation sparkline."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline, Static

from tui.format import duration
from tui.model import Devices

BUCKETS = 30
BUCKET_S = 10.0


def devices_table(devices: Devices, now: float) -> Table:
    table = Table(expand=True, box=None, padding=(0, 1))
    for name in ("device", "held by", "for", "state"):
        table.add_column(name, no_wrap=True)
    for name in sorted(devices.devices):
        device = devices.devices[name]
        if device.quarantined:
            state = f"[red]quarantined: {device.quarantined}[/red]"
        else:
            state = "[yellow]busy[/yellow]" if device.holder else "[green]idle[/green]"
        held = duration(now - device.since_ts) if device.holder else "–"
        table.add_row(name, device.holder or "–", held, state)
    if not devices.devices:
        table.add_row("(no device events yet)", "", "", "")
    return table


class DevicesPanel(Horizontal):
    """Docked under the task list; `show(devices, now)` refreshes it."""

    DEFAULT_CSS = """
    DevicesPanel { height: 8; border-top: solid $primary-darken-2; }
    DevicesPanel #device-table { width: 2fr; }
    DevicesPanel > Vertical { width: 1fr; padding: 0 1; }
    DevicesPanel Sparkline { height: 3; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="device-table")
        with Vertical():
            yield Label(id="device-queue")
            yield Sparkline([], id="device-sparkline")
            yield Label(f"utilisation, last {BUCKETS * BUCKET_S / 60:g} min", id="device-caption")

    def show(self, devices: Devices, now: float) -> None:
        self.query_one("#device-table", Static).update(devices_table(devices, now))
        total = len(devices.devices)
        self.query_one("#device-queue", Label).update(
            f"queue: {devices.queue_length} · busy {devices.busy}/{total}"
        )
        self.query_one("#device-sparkline", Sparkline).data = devices.utilisation(
            now, BUCKETS, BUCKET_S
        )
