"""The search tree as `aikg show` prints it: one line per node, children indented under
their parent, the best node's path starred."""

from __future__ import annotations

from machine.search.tree import Node, best_path, node_line


def tree_lines(nodes: list[Node], best_step: int | None) -> list[str]:
    starred = best_path(nodes, best_step)
    children: dict[str | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent, []).append(node)
    lines: list[str] = []

    def walk(node: Node, lead: str, branch: str) -> None:
        lines.append(f"{lead}{branch}{node_line(node, node.node_id in starred)}")
        below = children.get(node.node_id, [])
        inner = "" if not branch else lead + ("   " if branch == "└─ " else "│  ")
        for i, child in enumerate(below):
            walk(child, inner, "└─ " if i == len(below) - 1 else "├─ ")

    for root in children.get(None, []):
        walk(root, "", "")
    return lines
