"""Small modal screens: the help screen and a one-line prompt."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Markdown

HELP = """\
# aikg dashboard

**Task list** (the first screen)

| key | does |
|---|---|
| `enter` / click | open the task under the cursor |
| `/` | filter the list (type, `enter` or `escape` to go back) |
| `s` / click a header | sort by the next column / by that column |
| `r` | reverse the sort |

**Task view**

| key | does |
|---|---|
| `left` / `right` | replay: step one event back / forward |
| `home` / `end` | replay from the first event / go live (follow new events) |
| `g` | jump to a step (`3`) or an event (`#42`) |
| `/`, `n`, `N` | search events; next / previous match |
| `1`…`6` | design, code, diff, verifier, decisions, LLM tabs |
| `[` / `]` | diff: older / newer "from" version |
| `{` / `}` | diff: older / newer "to" version |
| `escape` | back to the task list |

**Everywhere**: `?` this help, `t` light/dark theme, `q` quit.
"""


class HelpScreen(ModalScreen[None]):
    """The key bindings, in full."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape,question_mark,q", "dismiss", "close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80%; max-width: 90; height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line; dismisses with the text, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]  # noqa: RUF012
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 60; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(value=self.value, id="prompt")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
