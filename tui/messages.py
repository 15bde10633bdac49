"""The dashboard's messages: the app tells the screen on top what happened, and a screen
asks the app to open a task, so no screen needs to know the app's class."""

from __future__ import annotations

from textual.message import Message


class StoreChanged(Message, bubble=False):
    """New events arrived for `streams` (the app's projection already holds them)."""

    def __init__(self, streams: frozenset[str]) -> None:
        super().__init__()
        self.streams = streams


class ClockTicked(Message, bubble=False):
    """A second went by: elapsed times and device holding times move on."""


class OpenTask(Message):
    """Show the task whose stream is `stream` (bubbles up to the app)."""

    def __init__(self, stream: str) -> None:
        super().__init__()
        self.stream = stream
