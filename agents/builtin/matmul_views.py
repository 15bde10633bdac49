"""Views around a matmul, done on the host where torch's views cost nothing.

`torch.matmul` of a 3-D or 4-D tensor with a matrix, and `einsum`, trace as reshapes and
permutes of the inputs into `mm`/`bmm` operands and of the product back to the result's
shape. The kernel needs neither: an operand that is such a chain of views of an input is
passed as that view (`a.reshape(-1, k)`: leading dims folded into M; the kernel reads it
through its strides), and a chain from the product to the returned tensor is applied to
the kernel's output, written in the product's shape, when it is returned.
"""

from __future__ import annotations

from torch.fx import Node as FxNode

from agents.builtin import index_views as iv
from agents.builtin import pointwise_ops as pw
from agents.builtin.fx_nodes import is_one, packet, permutation, shape_of
from agents.builtin.lowering_context import LoweringContext
from agents.builtin.values import CannotLower, Source, Value, identity
from agents.builtin.view_lowering import load_view

RESHAPES = {"view", "_unsafe_view", "reshape", "unsqueeze", "squeeze"}
PERMUTES = {"permute", "t", "transpose"}
HOST_VIEWS = RESHAPES | PERMUTES | {"expand"} | pw.IDENTITY
DIAGONALS = {"diag_embed"}  # torch.diag of a vector: see diagonal_product
DIAG_ARGS = {(), (0,), (0, -2, -1)}  # diag_embed's main diagonal, on the last two dims
MATMUL_OPERANDS = {"mm": 0, "bmm": 0, "addmm": 1}  # where the two operands start
SIZE_QUERIES = {"sym_size", "sym_numel", "sym_stride"}  # read the shape, not the values


def _view_call(lw: LoweringContext, node: FxNode, op: str) -> str:
    """The torch call (`.reshape(...)`, `.permute(...)`) that redoes one view on the host."""
    if op in pw.IDENTITY:
        return ""
    if op in PERMUTES:
        perm = permutation(node, op, len(shape_of(node)))
        return f".permute({', '.join(map(str, perm))})"
    sizes = ", ".join(lw.host_size(s) for s in shape_of(node))
    return f".{'expand' if op == 'expand' else 'reshape'}({sizes})"


def operand_source(lw: LoweringContext, arg: FxNode) -> str:
    """A matmul operand that is views of an input, as a new source: that view made on
    the host (raises CannotLower naming the first op that is not a view)."""
    chain: list[FxNode] = []
    node = arg
    while node.op == "call_function":
        if packet(node) not in HOST_VIEWS:
            raise CannotLower(packet(node))
        chain.append(node)
        node = node.args[0]
    base = lw.values.get(node.name)
    if not isinstance(base, Value) or base.kind != "load" or not base.source:
        raise CannotLower(packet(arg))
    source = lw.sources[base.source]
    host = source.host + "".join(_view_call(lw, n, packet(n)) for n in reversed(chain))
    name = lw.fresh(f"{source.name}_view")
    lw.sources[name] = Source(name, host, len(shape_of(arg)), source.dtype)
    return name


def feeds_matmul_only(node: FxNode) -> bool:
    """Whether node is a view whose every use is a matmul operand or a view on the way to
    one: the matmul reads it as a host view (operand_source), so no kernel value needs it."""
    if node.op != "call_function" or packet(node) not in HOST_VIEWS | DIAGONALS:
        return False
    if not node.users:
        return False
    for user in node.users:
        if packet(user) in MATMUL_OPERANDS and not is_matrix_vector(user):
            if node not in user.args[MATMUL_OPERANDS[packet(user)] :]:
                return False
        elif not feeds_matmul_only(user):
            return False
    return True


def _only_viewed_to_output(node: FxNode) -> bool:
    """Whether every use of node is the returned value or another view on the way to it."""
    for user in node.users:
        if user.op == "output" or packet(user) in SIZE_QUERIES:
            continue
        if user.op != "call_function" or packet(user) not in HOST_VIEWS:
            return False
        if not _only_viewed_to_output(user):
            return False
    return True


def returned_view(lw: LoweringContext, node: FxNode, op: str) -> Value | None:
    """A view of the matmul's product (or of its epilogue) that only leads to the returned
    tensor: the same value, its view recorded for the return; None for any other view."""
    x_node = node.args[0]
    x = lw.values.get(x_node.name)
    if lw.dot is None or op not in HOST_VIEWS or not isinstance(x, Value):
        return None
    full = tuple(range(lw.rank))
    in_f = [str(s) for s in shape_of(x_node)] == [str(s) for s in lw.f_shape]
    if x.dims != full or x.flipped or not (in_f or x_node.name in lw.returned_views):
        return None
    if not _only_viewed_to_output(node):
        return None
    chain = lw.returned_views.get(x_node.name, "") + _view_call(lw, node, op)
    lw.returned_views[node.name] = chain
    return Value(node.name, "pw", x.level, full, x.dtype, formula=identity, operands=[x])


def diagonal_product(lw: LoweringContext, node: FxNode, op: str) -> Value | None:
    """`diag(v) @ y` (a row scale, v[i] * y[i, j]) or `y @ diag(v)` (a column scale):
    pointwise work with no matmul; None for any other product."""
    if op != "mm":
        return None
    for side in (0, 1):
        diagonal, other = node.args[side], node.args[1 - side]
        if packet(diagonal) not in DIAGONALS or tuple(diagonal.args[1:]) not in DIAG_ARGS:
            continue
        vector = lw.values.get(diagonal.args[0].name)
        if not isinstance(vector, Value) or vector.kind != "load" or vector.index is not None:
            return None
        dims = (0, None) if side == 0 else (None, 1)
        scale = lw.indexed_load(vector, dims, (f"i{side}",))
        y = lw.operand(node, other, 1 - side)
        val = node.meta["val"]
        return lw.make(node.name, shape_of(node), val.dtype, pw.POINTWISE["mul"], [scale, y])
    return None


def skip_zero_tiles(lw: LoweringContext, node: FxNode, op: str, masked: Value) -> None:
    """`triu(a @ b)` / `tril(a @ b)` returned as it is: tiles wholly on the zeroed side of
    the diagonal skip their K loop (the mask stores their zeros), half the work of a
    square product."""
    product = masked.operands[0] if masked.operands else None
    if lw.dot is None or not isinstance(product, Value) or product.kind != "dot":
        return
    if any(user.op != "output" for user in node.users):
        return  # an epilogue after the mask could make the zeros something else
    diagonal = masked.operands[3]
    if op == "triu":  # kept where column - row >= diagonal
        lw.dot.zero_tiles = f"pid_n * BLOCK_N + BLOCK_N - 1 - pid_m * BLOCK_M < {diagonal}"
    else:  # tril: kept where column - row <= diagonal
        lw.dot.zero_tiles = f"pid_n * BLOCK_N - (pid_m * BLOCK_M + BLOCK_M - 1) > {diagonal}"


def matrix_vector(lw: LoweringContext, node: FxNode) -> Value:
    """`mv(a, v)` (`torch.matmul` of a matrix and a vector), or `mm(a, b)` with b one
    column: a row reduction, the sum over k of a[m, k] * v[k], so a (the bytes that
    matter) is read once at bandwidth by the reduction kernels; the iteration space is a's
    shape, reducing dim 1."""
    a = lw.operand(node, node.args[0], 0)
    viewed = load_view(lw, node.args[1])
    if viewed is None:
        raise CannotLower(packet(node))
    column, exprs = viewed
    walks = (1,) if packet(node) == "mv" else (1, None)  # b's column dim is size 1
    v = lw.indexed_load(column, (1,), iv.materialize(exprs, walks))
    dtype = node.meta["val"].dtype
    shape = shape_of(node.args[0])
    product = lw.make(lw.fresh(node.name), shape, dtype, pw.POINTWISE["mul"], [a, v])
    return lw.reduce(product, "sum", packet(node) == "mm", node.name)


def is_matrix_vector(node: FxNode) -> bool:
    """An mv, or an mm whose result has one column (the size is the traced literal 1)."""
    op = packet(node)
    return op == "mv" or (op == "mm" and is_one(shape_of(node)[-1]))
