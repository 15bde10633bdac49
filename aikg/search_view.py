"""The search tree as `aikg show` prints it: one line per node, children indented under
their parent, the best node's path starred."""

from __future__ import annotations

from machine.search.tree import Node, best_path


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


def node_line(node: Node, on_best_path: bool) -> str:
    """`n4 * verified 0.98 ms, 1.40x eager, 0.81 of SOL  BLOCK_SIZE=4096 (builtin)`."""
    status = node.status
    if status in ("failed", "no_code"):
        status = f"{status} ({node.stage})"
    figures = [f"{node.time_ms:.4g} ms"] if node.time_ms is not None else []
    for baseline in ("eager", "compile"):
        value = node.speedup(baseline)
        figures += [f"{value:.2f}x {baseline}"] if value is not None else []
    figures += [f"{node.sol:.2f} of SOL"] if node.sol is not None else []
    shown = ", ".join([status, *figures])
    mark = " *" if on_best_path else ""
    return f"{node.node_id}{mark} {shown}  {node.idea} ({node.agent})"
