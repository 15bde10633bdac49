"""The task view's tree tab: a search's nodes coloured by status, the best node's path in
bold, and the highlighted node's code and diff against its parent (docs/search.md)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static, Tree

from machine.search.tree import Node, best_path, node_line, search_tree
from machine.state import TaskState
from tui.diff import coloured, unified

STATUS_STYLES = {
    "verified": "green",
    "failed": "red",
    "no_code": "red",
    "repeat": "dim",
    "coding": "yellow",
    "verifying": "yellow",
}


class SearchTreeView(Horizontal):
    """The tree on the left; the highlighted node's code and diff on the right."""

    DEFAULT_CSS = """
    SearchTreeView Tree { width: 1fr; min-width: 30; }
    SearchTreeView VerticalScroll { width: 1fr; border-left: solid $primary-darken-2; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.nodes: dict[str, Node] = {}
        self.dark = True
        self._shown: tuple[tuple[str, str], ...] | None = None

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("search", id="search-tree")
        tree.show_root = False
        yield tree
        with VerticalScroll():
            yield Static(Text("(select a node)", style="dim"), id="node-detail")

    def show(self, state: TaskState, dark: bool) -> None:
        """Rebuild the tree when a node was added or changed status."""
        nodes = search_tree(state)
        key = tuple((n.node_id, n.status) for n in nodes)
        self.dark = dark
        if key == self._shown:
            return
        self._shown = key
        self.nodes = {n.node_id: n for n in nodes}
        best = best_path(nodes, state.best.step if state.best else None)
        tree = self.query_one("#search-tree", Tree)
        tree.clear()
        if not nodes:
            tree.root.add_leaf(Text("(no candidates yet)", style="dim"))
            return
        branches = {None: tree.root}
        for node in nodes:  # in step order: a parent always comes before its children
            parent = branches.get(node.parent, tree.root)
            branches[node.node_id] = parent.add(
                node_label(node, node.node_id in best), data=node.node_id, expand=True
            )

    def on_tree_node_highlighted(self, message: Tree.NodeHighlighted[str]) -> None:
        node = self.nodes.get(message.node.data or "")
        if node is not None:
            parent = self.nodes.get(node.parent or "")
            self.query_one("#node-detail", Static).update(node_detail(node, parent, self.dark))


def node_label(node: Node, on_best_path: bool) -> Text:
    style = STATUS_STYLES.get(node.status, "")
    return Text(node_line(node, on_best_path), style=f"bold {style}" if on_best_path else style)


def node_detail(node: Node, parent: Node | None, dark: bool) -> RenderableType:
    """The node's code, then its diff against its parent's."""
    code = node.attempt.code
    if code is None:
        return Text(f"{node.node_id}: no code ({node.status})", style="dim")
    parts: list[RenderableType] = [
        Text(node_line(node, False), style="bold"),
        Syntax(code, "python", theme="monokai" if dark else "friendly", line_numbers=True),
    ]
    if parent is not None and parent.attempt.code is not None:
        names = (f"{parent.node_id} (parent)", node.node_id)
        parts += [Text(""), coloured(unified(parent.attempt.code, code, *names))]
    return Group(*parts)
