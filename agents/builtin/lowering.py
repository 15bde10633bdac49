"""Lower a traced aten graph into one fused kernel plan.

The iteration space F is the output shape of a pointwise graph, the shape its
reductions reduce, the output of its one matmul, or for group and instance norm the
regrouped shape (N, G, C/G, *spatial). Every op then becomes a `Value` in F (see
values.py); ops that have no lowering are collected and reported together.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import torch
from torch.fx import Node as FxNode

from agents.builtin import pointwise_ops as pw
from agents.builtin import view_lowering as views
from agents.builtin.adaptive_pooling import ADAPTIVE_POOLS, lower_adaptive_pool
from agents.builtin.composites import COMPOSITES, batch_norm, lower_composite, normalize
from agents.builtin.conv_lowering import (
    CONV_LOCALS,
    CONVS,
    lower_convolution,
    padding_for_convolution,
)
from agents.builtin.errors import LLM_HINT
from agents.builtin.fx_nodes import is_one, packet, permutation, shape_of
from agents.builtin.gather import lower_gather
from agents.builtin.matmul_launch import NAMES as MATMUL_NAMES
from agents.builtin.matmul_views import (
    diagonal_product,
    feeds_matmul_only,
    is_matrix_vector,
    matrix_vector,
    operand_source,
    returned_view,
    skip_zero_tiles,
)
from agents.builtin.pooling import POOLS, lower_pool
from agents.builtin.reference import Traced
from agents.builtin.values import (
    FULL,
    ROW,
    CannotLower,
    Conv,
    DerivedSize,
    Dot,
    DotOperand,
    Formula,
    HostScalar,
    NotLowered,
    Num,
    Output,
    Plan,
    Source,
    Value,
    identity,
)
from agents.types import Unsupported

REDUCTIONS = {"sum", "mean", "amax", "amin", "max", "min", "prod", "argmax", "argmin"}
VIEWS = {"unsqueeze", "squeeze", "expand", "view", "reshape", "_unsafe_view", "permute"}
VIEWS |= {"t", "transpose"}
MATMULS = {"mm", "addmm", "bmm"}
SCANS = {"cumsum": "sum", "cumprod": "prod"}
CASTS = {"_to_copy", "to", "type_as", "convert_element_type"}
CONSTANTS = {"scalar_tensor", "full", "ones_like", "zeros_like", "full_like", "ones", "zeros"}
CONSTANTS |= {"new_full"}
LAZY = {"empty", "empty_like", "repeat"}  # only an error if a kernel value needs them
RANDOM = {"native_dropout", "dropout", "bernoulli", "rand", "rand_like", "randn", "randn_like"}
RANDOM |= {"randint", "randint_like", "normal", "uniform", "multinomial", "randperm"}
RANDOM |= {"exponential", "rrelu_with_noise", "feature_dropout", "alpha_dropout"}
# names the kernel and its host wrapper use for themselves
RESERVED = {"pid", "offsets", "mask", "row", "r", "r0", "rmask", "R", "K", "n_elements", "grid"}
RESERVED |= {"n_rows", "out", "tl", "triton", "torch", "nn", "self", "acc", "a", "b", "k"}
RESERVED |= {"BLOCK_SIZE", "BLOCK_R", "BLOCK_M", "BLOCK_N", "BLOCK_K", "BLOCK_S"}
# reductions: the kernels' row and split variables, the host's launch variables
RESERVED |= {"rows", "row_mask", "s", "smask", "split", "chunk"}
RESERVED |= {"programs", "block_r", "block_m", "warps"}
RESERVED |= MATMUL_NAMES
RESERVED |= CONV_LOCALS


def _same_shape(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return [str(s) for s in a] == [str(s) for s in b]


def _norm_dims(dims: Any, rank: int) -> tuple[int, ...]:
    if dims is None or dims == []:
        return tuple(range(rank))
    if isinstance(dims, int):
        dims = [dims]
    return tuple(sorted(d % rank if rank else 0 for d in dims))


def _depends_on_scan(v: Any) -> bool:
    if not isinstance(v, Value):
        return False
    return v.kind == "scan" or any(_depends_on_scan(o) for o in v.operands)


def reachable_loads(roots: list[Value]) -> list[Value]:
    seen: dict[int, Value] = {}
    stack: list[Any] = list(roots)
    while stack:
        v = stack.pop()
        if isinstance(v, Value) and id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.operands)
            stack.extend(v.options.values())
    return [v for v in seen.values() if v.kind == "load"]


def reduction_request(node: FxNode) -> tuple[FxNode, tuple[int, ...]] | None:
    """(tensor reduced, dims reduced) for an op that reduces, else None."""
    if is_matrix_vector(node):  # a matrix times a vector: each row's products summed
        return node.args[0], (1,)
    op = packet(node)
    if op not in REDUCTIONS | COMPOSITES | SCANS.keys():
        return None
    x, args, kw = node.args[0], node.args, node.kwargs
    rank = len(shape_of(x))
    if op in {"_softmax", "_log_softmax"} or op in SCANS:
        return x, _norm_dims(args[1], rank)
    if op == "_native_batch_norm_legit":
        return x, tuple(d for d in range(rank) if d != 1)
    if op == "native_layer_norm":
        return x, tuple(range(rank - len(args[1]), rank))
    if op in {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"}:
        mode = args[2] if len(args) > 2 else kw.get("reduction", 1)
        return (x, tuple(range(rank))) if mode else None
    if op in {"linalg_vector_norm", "norm", "frobenius_norm"}:
        dims = args[2] if len(args) > 2 else kw.get("dim")
        return x, _norm_dims(dims, rank)
    dims = args[1] if len(args) > 1 else kw.get("dim")
    return x, _norm_dims(dims, rank)


def group_norm_request(node: FxNode) -> tuple[FxNode, Any] | None:
    """(input, groups) for native_group_norm, or instance norm traced as a batch norm."""
    op = packet(node)
    if op == "native_group_norm":
        return node.args[0], node.args[6]
    if op == "_native_batch_norm_legit" and node.target._overloadname == "no_stats":
        view = node.args[0]
        if not (isinstance(view, FxNode) and view.op == "call_function"):
            return None  # a stage's buffer: the instance norm's input was computed
        if packet(view) in VIEWS and view.args[0].op == "placeholder":
            x = view.args[0]
            xs, vs = shape_of(x), shape_of(view)
            if len(xs) == len(vs) and is_one(vs[0]) and _same_shape(xs[2:], vs[2:]):
                return x, xs[1]  # instance norm: one group per channel
    return None


class Lowerer:
    """Walks the fx graph once, building Values; raises Unsupported naming every bad op."""

    def __init__(self, traced: Traced) -> None:
        self.traced = traced
        self.gm = traced.graph
        self.values: dict[str, Any] = {}
        self.sources: dict[str, Source] = {}
        self.scalars: dict[str, str] = {}
        self.reductions: list[Value] = []
        self.fused: list[str] = []
        self.counter = 0
        computed = {n.name for n in self.gm.graph.nodes if n.op != "placeholder"}
        self.taken = computed | RESERVED
        self.dot: Dot | None = None
        self.returned_views: dict[str, str] = {}  # a view of the product -> its host calls
        self.conv: Conv | None = None
        self.has_cumprod = False
        self.group_norm: tuple[FxNode, FxNode, Any] | None = None  # (op node, input, groups)
        # node -> (load, index expressions) of a view read through index arithmetic
        self.index_views: dict[str, tuple[Value, list[str]]] = {}
        self.uses_indices = False  # a formula reads i<d>: the kernel needs per-dim indices
        self.rank, self.f_shape, self.reduced = self._iteration_space()

    # ---- iteration space -------------------------------------------------------------
    def _several_kernels(self, nodes: list[FxNode], what: str) -> Unsupported:
        ops = sorted({f"aten.{packet(n)}" for n in nodes})
        return Unsupported(
            ops, f"the builtin agent fuses {what}; this graph needs several kernels; " + LLM_HINT
        )

    def _iteration_space(self) -> tuple[int, tuple[Any, ...], tuple[int, ...]]:
        calls = [n for n in self.gm.graph.nodes if n.op == "call_function"]
        matmuls = [n for n in calls if packet(n) in MATMULS | CONVS and not is_matrix_vector(n)]
        groups = [(n, *g) for n in calls if (g := group_norm_request(n)) is not None]
        requests = [
            (n, *r)
            for n in calls
            if (r := reduction_request(n)) is not None and n not in [g[0] for g in groups]
        ]
        if matmuls:
            if len(matmuls) > 1 or requests or groups:
                others = [r[0] for r in requests] + [g[0] for g in groups]
                raise self._several_kernels(
                    matmuls + others, "one matmul or convolution with an epilogue"
                )
            return len(shape_of(matmuls[0])), shape_of(matmuls[0]), ()
        if groups:
            if len(groups) > 1 or requests:
                others = [r[0] for r in requests] + [g[0] for g in groups]
                raise self._several_kernels(others, "one group norm")
            return self._group_space(*groups[0])
        if not requests:
            outs = [
                o
                for o in self._output_nodes()
                if isinstance(o, FxNode) and isinstance(o.meta.get("val"), torch.Tensor)
            ]
            shape = max((shape_of(o) for o in outs), key=len, default=())
            return len(shape), shape, ()
        shapes = {tuple(str(s) for s in shape_of(x)) for _, x, _ in requests}
        dims = {d for _, _, d in requests}
        if len(shapes) > 1 or len(dims) > 1:
            raise self._several_kernels(
                [n for n, _, _ in requests], "reductions over one set of dims of one shape"
            )
        x = requests[0][1]
        return len(shape_of(x)), shape_of(x), requests[0][2]

    def _group_space(
        self, node: FxNode, x: FxNode, groups: Any
    ) -> tuple[int, tuple[Any, ...], tuple[int, ...]]:
        """F = (N, G, C/G, *spatial), reducing everything after the groups."""
        self.group_norm = (node, x, groups)
        n, c, *spatial = shape_of(x)
        if isinstance(groups, int):
            # the group count follows the attribute it came from, e.g. self.groups
            attrs = [k for k, v in self.traced.int_attrs.items() if v == groups]
            if len(attrs) == 1:
                groups = DerivedSize(f"self.{attrs[0]}")
        if str(groups) == str(c):
            per_group: Any = 1
        else:
            per_group = DerivedSize(f"{self.host_size(c)} // {self.host_size(groups)}")
        f = (n, groups, per_group, *spatial)
        return len(f), f, tuple(range(2, len(f)))

    def _output_nodes(self) -> list[Any]:
        out = next(n for n in self.gm.graph.nodes if n.op == "output")
        res = out.args[0]
        return list(res) if isinstance(res, (list, tuple)) else [res]

    # ---- building values (also used by composites) -----------------------------------
    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}_{self.counter}"

    def level(self, dims: tuple[int | None, ...], operands: list[Any]) -> str:
        if any(d in self.reduced for d in dims if d is not None):
            return FULL
        if any(isinstance(o, Value) and o.level == FULL for o in operands):
            return FULL
        return ROW

    def _broadcast(self, shape: tuple[Any, ...], operands: list[Any]) -> tuple[int | None, ...]:
        """Torch broadcasting (right-aligned) of the operands' F dims onto shape."""
        rank = len(shape)
        dims: list[int | None] = [None] * rank
        for o in operands:
            if not isinstance(o, Value):
                continue
            offset = rank - len(o.dims)
            if offset < 0:
                raise CannotLower("broadcast")
            for i, d in enumerate(o.dims):
                if d is None:
                    continue
                if dims[offset + i] not in (None, d):
                    raise CannotLower("broadcast")
                dims[offset + i] = d
        return tuple(None if is_one(s) else d for s, d in zip(shape, dims, strict=True))

    def make(
        self,
        name: str,
        shape: tuple[Any, ...],
        dtype: torch.dtype,
        formula: Formula,
        operands: list[Any],
        options: dict[str, Any] | None = None,
    ) -> Value:
        """A pointwise value of the given torch shape."""
        regrouped = any(isinstance(o, Value) and o.regrouped for o in operands)
        if regrouped and len(shape) != self.rank:
            # an epilogue on a group norm's output: only values of the group space mix in
            others = [o for o in operands if isinstance(o, Value) and not o.regrouped]
            if any(d is not None for o in others for d in o.dims):
                raise CannotLower("broadcast")
            shape = self.f_shape
        dims = self._broadcast(shape, operands)
        flipped = self._common_flip(operands)
        operands = [self._flipped_to(o, flipped) for o in operands]
        options = {k: self._flipped_to(o, flipped) for k, o in (options or {}).items()}
        return Value(
            name=name,
            kind="pw",
            level=self.level(dims, operands),
            dims=dims,
            dtype=dtype,
            formula=formula,
            operands=operands,
            options=options,
            regrouped=regrouped,
            flipped=flipped,
        )

    # ---- flip: index arithmetic on loads and stores -----------------------------------
    def reorient(self, v: Any, dims: frozenset[int]) -> Any:
        """v's computation with every i<d> (d in dims) read as n<d>-1-i<d>; None if impossible.

        Loads take reversed indices and pointwise values rebuild on reoriented operands;
        values that do not vary along dims stay. A scan cannot walk its dim backwards, and
        reductions and the matmul accumulator are not rebuilt.
        """
        if not isinstance(v, Value) or v.kind == "const":
            return v
        dims = dims & {d for d in v.dims if d is not None}
        if not dims:
            return v
        if v.kind == "load":
            index = v.index or tuple("0" if d is None else f"i{d}" for d in v.dims)
            for d in dims:
                index = tuple(re.sub(rf"\bi{d}\b", f"(n{d} - 1 - i{d})", e) for e in index)
            return replace(v, name=self.fresh(v.name), index=index)
        if (v.kind == "scan" and not dims & set(self.reduced)) or v.kind == "pw":
            operands = [self.reorient(o, dims) for o in v.operands]
            options = {k: self.reorient(o, dims) for k, o in v.options.items()}
            if any(o is None for o in [*operands, *options.values()]):
                return None
            return replace(v, name=self.fresh(v.name), operands=operands, options=options)
        return None

    def unflipped(self, v: Any) -> Any:
        """v with its variable holding the logical value at every position."""
        if not isinstance(v, Value) or not v.flipped:
            return v
        r = self.reorient(v, v.flipped)
        if r is None:
            raise CannotLower("flip")
        return replace(r, flipped=frozenset())

    def _common_flip(self, operands: list[Any]) -> frozenset[int]:
        flips = {o.flipped for o in operands if isinstance(o, Value) and o.flipped}
        if len(flips) > 1:
            raise CannotLower("flip")
        return next(iter(flips), frozenset())

    def _flipped_to(self, v: Any, flipped: frozenset[int]) -> Any:
        """An operand whose variable holds the logical value at the flipped positions."""
        if not isinstance(v, Value) or v.flipped == flipped:
            return v
        r = self.reorient(v, flipped)
        if r is None:
            raise CannotLower("flip")
        return replace(r, flipped=flipped) if r is not v else v

    def _flip(self, node: FxNode) -> Value:
        """flip(x): x's loads read reversed, or (after a scan) x stored reversed."""
        x = self.operand(node, node.args[0], 0)
        if not isinstance(x, Value) or x.regrouped:
            raise CannotLower("flip")
        axes = _norm_dims(node.args[1], len(x.dims))
        dims = frozenset(x.dims[a] for a in axes if x.dims[a] is not None)
        r = self.reorient(x, dims)
        if r is not None:
            return replace(r, name=node.name, flipped=x.flipped) if r is not x else x
        return Value(
            node.name,
            "pw",
            x.level,
            x.dims,
            x.dtype,
            formula=identity,
            operands=[x],
            flipped=x.flipped ^ dims,
        )

    def reduce(self, x: Value, red_op: str, keepdim: bool, name: str) -> Value:
        """A reduction of a full value over all reduced dims."""
        if red_op in ("argmax", "argmin") and 1 < len(self.reduced) < self.rank:
            raise Unsupported([f"aten.{red_op}"], f"{red_op} over several dims; " + LLM_HINT)
        if _depends_on_scan(x) or x.level != FULL:
            raise CannotLower(red_op)
        x = self.unflipped(x)
        if keepdim:
            dims = tuple(None if d in self.reduced else d for d in x.dims)
        else:
            dims = tuple(d for d in x.dims if d not in self.reduced)
        dtype = torch.int64 if red_op in ("argmax", "argmin") else x.dtype
        value = Value(name, "red", ROW, dims, dtype, operands=[x], red_op=red_op)
        self.reductions.append(value)
        return value

    def row_shape(self, keepdim: bool) -> tuple[Any, ...]:
        if keepdim:
            return tuple(1 if d in self.reduced else s for d, s in enumerate(self.f_shape))
        return tuple(s for d, s in enumerate(self.f_shape) if d not in self.reduced)

    def scalar(self, name: str, host: str) -> str:
        self.scalars.setdefault(name, host)
        return name

    def count(self) -> str:
        """The number of reduced elements per row (kernel argument R)."""
        return self.scalar("R", "R")

    def operand(self, node: FxNode, arg: Any, index: int) -> Any:
        """A formula operand: a Value, a scalar kernel argument, or a literal."""
        if isinstance(arg, FxNode):
            value = self.values[arg.name]
            if isinstance(value, HostScalar):
                return self.scalar(value.name, value.host)
            if isinstance(value, NotLowered):
                raise CannotLower(value.op)
            if isinstance(value, Value) and value.pending:
                raise CannotLower("view")
            return value
        binding = self.traced.scalar_bindings.get((node.name, index))
        if binding is not None:
            return self.scalar(binding, f"self.{binding}")
        if isinstance(arg, float):
            return Num(arg)
        return arg

    def channel_load(self, arg: Any) -> Value | None:
        """A per-channel tensor ([C]) read along dim 1 of F (batch norm parameters)."""
        if arg is None:
            return None
        base = self.values[arg.name]
        if not isinstance(base, Value) or base.kind != "load":
            raise CannotLower("batch_norm")
        dims = tuple(1 if i == 1 else None for i in range(self.rank))
        return self.indexed_load(base, dims, ("i1",))

    def indexed_load(
        self,
        base: Value,
        dims: tuple[int | None, ...],
        index: tuple[str, ...],
        regrouped: bool = False,
    ) -> Value:
        """A fresh load of `base`'s tensor walking `dims` of F, addressed by `index`."""
        return Value(
            self.fresh(base.name),
            "load",
            self.level(dims, []),
            dims,
            base.dtype,
            source=base.source,
            index=index,
            regrouped=regrouped,
        )

    # ---- loads -------------------------------------------------------------------------
    def align(self, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
        """Dims of a shape right-aligned to F, or None when the sizes do not line up."""
        offset = self.rank - len(shape)
        if offset < 0:
            return None
        dims: list[int | None] = []
        for i, size in enumerate(shape):
            if is_one(size):
                dims.append(None)
            elif str(size) == str(self.f_shape[offset + i]):
                dims.append(offset + i)
            else:
                return None
        return tuple(dims)

    def _align_to_rows(self, shape: tuple[Any, ...]) -> tuple[int | None, ...] | None:
        """The kept dims, for a tensor of exactly their shape (one value per row, e.g. a
        class target); None otherwise."""
        kept = [d for d in range(self.rank) if d not in self.reduced]
        if not self.reduced or not _same_shape(shape, tuple(self.f_shape[d] for d in kept)):
            return None
        return tuple(None if is_one(s) else d for s, d in zip(shape, kept, strict=True))

    def _load(self, node: FxNode, host: str) -> Value:
        """A read of a graph input; its dims wait for a permute when it does not align."""
        name = re.sub(r"\W+", "_", host.replace("self.", "")).strip("_")  # self.seq[0].weight
        if name in self.taken or re.fullmatch(r"[inr]\d+|out\d*|rem_.*|acc_.*|pid_.*", name):
            name += "_in"
        val = node.meta["val"]
        self.sources[name] = Source(name, host, val.dim(), val.dtype)
        dims = self.align(shape_of(node))
        if dims is None:
            dims = self._align_to_rows(shape_of(node))
        value = Value(name, "load", ROW, dims or (), val.dtype, source=name)
        if dims is None:
            value.pending = True
        else:
            value.level = self.level(dims, [])
        return value

    def _resolve(self, x: Value, perm: list[int], shape: tuple[Any, ...]) -> bool:
        """Give a pending load the dims that make its permuted view align with F."""
        dims = self.align(shape)
        if dims is None or x.kind != "load":
            return False
        resolved: list[int | None] = [None] * len(perm)
        for i, p in enumerate(perm):
            resolved[p] = dims[i]
        x.dims, x.pending = tuple(resolved), False
        x.level = self.level(x.dims, [])
        return True

    def _channel(self) -> str:
        """The channel of a point of the group space: the group itself for instance norm."""
        return "i1" if is_one(self.f_shape[2]) else "(i1 * n2 + i2)"

    def _regrouped_load(self, arg: Any, per_channel: bool) -> Value | None:
        """A load in the group space: the input itself, or its per-channel weight/bias."""
        if arg is None:
            return None
        if packet(arg) == "repeat":  # instance norm repeats weights over the batch
            arg = arg.args[0]
        base = self.values[arg.name]
        if not isinstance(base, Value) or base.kind != "load":
            raise CannotLower("group_norm")
        channel = self._channel()
        if per_channel:
            # instance norm's weight is one value per row (point of N, C), loaded once
            per_group = None if is_one(self.f_shape[2]) else 2
            dims: tuple[int | None, ...] = (None, 1, per_group) + (None,) * (self.rank - 3)
            index: tuple[str, ...] = (channel,)
        else:
            dims = tuple(range(self.rank))
            index = ("i0", channel, *(f"i{d}" for d in range(3, self.rank)))
        return self.indexed_load(base, dims, index, regrouped=True)

    # ---- the walk ----------------------------------------------------------------------
    def lower(self) -> Plan:
        unsupported: list[str] = []
        failed: set[str] = set()
        hosts = {p.node_name: p.host for p in self.traced.placeholders}
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if node.users:
                    self.values[node.name] = self._load(node, hosts[node.name])
                continue
            if node.op == "get_attr":
                try:
                    self.values[node.name] = self._constant(node)
                except CannotLower as exc:
                    failed.add(node.name)
                    unsupported.append(exc.args[0])
                continue
            if node.op != "call_function":
                continue
            if any(arg.name in failed for arg in node.all_input_nodes):
                failed.add(node.name)  # downstream of an op already reported
                continue
            try:
                self.values[node.name] = self._lower_node(node, packet(node))
            except CannotLower as exc:
                failed.add(node.name)
                what = exc.args[0]
                unsupported.append(what if what.startswith("<") else f"aten.{what}")
        if unsupported:
            ops = sorted(set(unsupported))
            raise Unsupported(ops, f"the builtin agent cannot lower {', '.join(ops)}; " + LLM_HINT)
        return self._plan()

    def _constant(self, node: FxNode) -> Value:
        """A tensor made in forward: a literal when it holds one known value."""
        tensor = getattr(self.gm, str(node.target))
        if tensor.dim() == 0 and tensor.device.type != "meta":
            literal = tensor.item()
            operand = Num(literal) if isinstance(literal, float) else literal
            return Value(node.name, "const", ROW, (), tensor.dtype, operands=[operand])
        shape = "x".join(str(s) for s in tensor.shape) or "0-dim"
        raise CannotLower(
            f"<constant: a {shape} tensor made in forward on the inputs' device "
            f"({node.target}): tracing on the meta device cannot read its values; make it "
            "a buffer in __init__>"
        )

    def _lower_node(self, node: FxNode, op: str) -> Any:
        if op in RANDOM:
            raise Unsupported(
                [f"aten.{op}"],
                f"aten.{op} draws random numbers (training-mode dropout or sampling), which "
                "a kernel cannot draw as torch does, so no candidate can match the reference; "
                "in eval mode nn.Dropout is the identity and is lowered; " + LLM_HINT,
            )
        if op == "getitem":
            piece = f"{node.args[0].name}#{node.args[1]}"
            if piece in self.index_views:  # a piece of a split input
                self.index_views[node.name] = self.index_views[piece]
                return views.view_load(self, node, "split")
            return self.values[node.args[0].name][node.args[1]]
        if op == "sym_size":
            return self.size_scalar(shape_of(node.args[0])[node.args[1]])
        if feeds_matmul_only(node):
            return NotLowered(op)  # the matmul reads its operand as a host view
        if padding_for_convolution(node):
            return NotLowered(op)  # the convolution reads it as padding
        if op in LAZY or not isinstance(node.meta.get("val"), (torch.Tensor, tuple, list)):
            return NotLowered(op)
        if self.group_norm is not None and node is self.group_norm[0]:
            return self._lower_group_norm(node, op)
        if op in views.SPLIT_VIEWS:
            return views.split(self, node, op)
        if op in pw.IDENTITY and node.args[0].name in self.index_views:
            self.index_views[node.name] = self.index_views[node.args[0].name]  # a clone
            x = self.values[node.args[0].name]
            if not isinstance(x, Value) or x.pending:
                return views.view_load(self, node, op)
        if op in VIEWS:
            return self._view(node, op)
        if op in views.INDEX_VIEWS:
            return views.index_view(self, node, op)
        self.fused.append(op)
        if op in views.TRIANGLES:
            masked = views.triangle(self, node, op)
            skip_zero_tiles(self, node, op, masked)
            return masked
        if op == "diag_embed":
            return views.diag_embed(self, node, op)
        if op == "cat":
            return views.cat(self, node, op)
        if is_matrix_vector(node):
            return matrix_vector(self, node)
        if op in MATMULS:
            return self._lower_matmul(node, op)
        if op in CONVS:
            return lower_convolution(self, node)
        if op in POOLS:
            return lower_pool(self, node, op)
        if op in ADAPTIVE_POOLS:
            return lower_adaptive_pool(self, node, op)
        if op in REDUCTIONS:
            return self._lower_reduction(node, op)
        if op in SCANS:
            return self._lower_scan(node, op)
        if op == "flip":
            return self._flip(node)
        if op == "gather":
            return lower_gather(self, node)
        if op == "_native_batch_norm_legit_no_training":
            return batch_norm(self, node, node.args[:5], 6, training=False)
        if op in COMPOSITES:
            return lower_composite(self, node, op)
        return self._lower_pointwise(node, op)

    def _lower_pointwise(self, node: FxNode, op: str) -> Value:
        val = node.meta["val"]
        if op in pw.IDENTITY or op in CASTS:
            x = self.operand(node, node.args[0], 0)
            return self.make(node.name, shape_of(node), val.dtype, identity, [x])
        if op in CONSTANTS:
            fill = {"ones_like": 1.0, "zeros_like": 0.0, "ones": 1.0, "zeros": 0.0}.get(op)
            at = {"full": 1, "full_like": 1, "new_full": 2}.get(op, 0)
            literal = self.operand(node, node.args[at], at) if fill is None else fill
            return Value(node.name, "const", ROW, (), val.dtype, operands=[literal])
        formula = pw.POINTWISE.get(op)
        if formula is None:
            raise CannotLower(op)
        args = list(node.args)
        operands = [self.operand(node, a, i) for i, a in enumerate(args)]
        options = {
            k: self.operand(node, v, len(args) + i) for i, (k, v) in enumerate(node.kwargs.items())
        }
        return self.make(node.name, shape_of(node), val.dtype, formula, operands, options)

    def size_scalar(self, size: Any) -> Any:
        if isinstance(size, int):
            return size
        for d, s in enumerate(self.f_shape):
            if str(s) == str(size):
                return f"n{d}"
        host = self.traced.symbols.get(str(size)) or self._size_expression(size)
        if host is None:
            return NotLowered("sym_size")
        return HostScalar("size_" + re.sub(r"\W+", "_", str(size)).strip("_"), host)

    def _view(self, node: FxNode, op: str) -> Any:
        if (returned := returned_view(self, node, op)) is not None:
            return returned
        x = self.values[node.args[0].name]
        shape = shape_of(node)
        permutes = op in ("permute", "t", "transpose")
        if permutes and views.permuted_view(self, node, op) and not isinstance(x, Value):
            return views.view_load(self, node, op)  # a permute of an index view
        if not isinstance(x, Value):
            return views.index_view(self, node, op)  # a reshape of an index view, or NotLowered
        if x.regrouped:  # the view back from instance norm's (1, N*C, ...) layout
            original = shape_of(self.group_norm[1]) if self.group_norm else ()
            return x if _same_shape(shape, original) else NotLowered(op)
        if op in ("permute", "t", "transpose"):
            perm = permutation(node, op, len(shape))
            if x.pending and not self._resolve(x, perm, shape):
                return Value(node.name, "pw", ROW, (), x.dtype, pending=True)
            dims = tuple(x.dims[p] for p in perm)
        elif x.pending:
            return views.index_view(self, node, op)  # e.g. a flatten of an input
        elif op == "expand":
            offset = len(shape) - len(x.dims)
            dims = tuple(
                x.dims[i - offset]
                if i >= offset and x.dims[i - offset] is not None
                else (None if is_one(s) else i + self.rank - len(shape))
                for i, s in enumerate(shape)
            )
        else:
            before = [str(s) for s in shape_of(node.args[0]) if not is_one(s)]
            if [str(s) for s in shape if not is_one(s)] != before:
                return views.index_view(self, node, op)  # a real reshape: a load's index arithmetic
            kept = iter(d for d in x.dims if d is not None)
            dims = tuple(None if is_one(s) else next(kept) for s in shape)
        return Value(
            node.name,
            "pw",
            x.level,
            dims,
            x.dtype,
            formula=identity,
            operands=[x],
            flipped=x.flipped,
        )

    def size_text(self, size: Any) -> str | None:
        """A size as kernel source: a literal or a kernel argument; None if neither."""
        if isinstance(size, int):
            return str(size)
        name = self.size_scalar(size)
        if isinstance(name, HostScalar):
            return self.scalar(name.name, name.host)
        return name if isinstance(name, str) else None

    # ---- reductions, scans, group norm, matmul ---------------------------------------
    def _lower_reduction(self, node: FxNode, op: str) -> Any:
        x = self.operand(node, node.args[0], 0)
        args, kw = node.args, node.kwargs
        keepdim = bool(args[2] if len(args) > 2 else kw.get("keepdim", False))
        if op in ("max", "min") and len(args) > 1:
            values = self.reduce(x, op, keepdim, node.name + "_values")
            return (values, self.reduce(x, "arg" + op, keepdim, node.name + "_indices"))
        red_op = {"amax": "max", "amin": "min", "mean": "sum"}.get(op, op)
        if op != "mean":
            return self.reduce(x, red_op, keepdim, node.name)
        total = self.reduce(x, "sum", keepdim, node.name + "_sum")
        shape = self.row_shape(keepdim)
        return self.make(node.name, shape, total.dtype, pw.POINTWISE["div"], [total, self.count()])

    def _lower_scan(self, node: FxNode, op: str) -> Value:
        """cumsum / cumprod: a running total carried across the blocks of the last pass."""
        x = self.operand(node, node.args[0], 0)
        if len(self.reduced) != 1 or not isinstance(x, Value):
            raise CannotLower(op)
        x = self.unflipped(x)
        self.has_cumprod = self.has_cumprod or op == "cumprod"
        dtype = node.meta["val"].dtype
        return Value(node.name, "scan", FULL, x.dims, dtype, operands=[x], red_op=SCANS[op])

    def _lower_group_norm(self, node: FxNode, op: str) -> tuple[Any, ...]:
        self.fused.append("group_norm" if op == "native_group_norm" else "instance_norm")
        _, x_node, _ = self.group_norm or (None, None, None)
        if op == "native_group_norm":
            weight, bias, eps_at = node.args[1], node.args[2], 7
        else:
            weight, bias, eps_at = node.args[1], node.args[2], 5
        x = self._regrouped_load(x_node, per_channel=False)
        w = self._regrouped_load(weight, per_channel=True)
        b = self._regrouped_load(bias, per_channel=True)
        eps = self.operand(node, node.args[eps_at], eps_at)
        return (normalize(self, x, w, b, eps, node.name), None, None)

    def _lower_matmul(self, node: FxNode, op: str) -> Value:
        if (scaled := diagonal_product(self, node, op)) is not None:
            return scaled
        args = node.args[1:] if op == "addmm" else node.args
        batched = op == "bmm"
        a = self._dot_operand(args[0], ("b", "m", "k") if batched else ("m", "k"))
        b = self._dot_operand(args[1], ("b", "k", "n") if batched else ("k", "n"))
        size = shape_of(args[0])[-1]
        k_size = str(size) if isinstance(size, int) else self.traced.symbols.get(str(size))
        self.dot = Dot(a, b, k_size or f"{a.source}.shape[{a.roles.index('k')}]")
        val = node.meta["val"]
        dot = Value("acc", "dot", FULL, tuple(range(self.rank)), val.dtype)
        if op != "addmm":
            return dot
        if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
            raise CannotLower(op)
        bias = self.operand(node, node.args[0], 0)
        return self.make(node.name, shape_of(node), val.dtype, pw.POINTWISE["add"], [bias, dot])

    def _dot_operand(self, arg: FxNode, roles: tuple[str, ...]) -> DotOperand:
        """Follow transposes and no-op views from a matmul operand back to a source; other
        views of an input (a reshape folding leading dims into M) are made on the host."""
        operand, given = arg, roles
        while arg.op == "call_function":
            op = packet(arg)
            inner = arg.args[0]
            if op in ("t", "transpose", "permute"):
                perm = permutation(arg, op, len(roles))
                inverse = [""] * len(roles)
                for i, p in enumerate(perm):
                    inverse[p] = roles[i]
                roles = tuple(inverse)
            elif not (_same_shape(shape_of(arg), shape_of(inner)) and op in VIEWS | pw.IDENTITY):
                return DotOperand(operand_source(self, operand), given)
            arg = inner
        return DotOperand(self.values[arg.name].source, roles)

    # ---- the plan ----------------------------------------------------------------------
    def host_size(self, size: Any) -> str:
        if isinstance(size, int):
            return str(size)
        if isinstance(size, DerivedSize):
            return size.host
        host = self.traced.symbols.get(str(size)) or self._size_expression(size)
        if host is None:
            raise Unsupported(
                ["<shape>"], f"cannot express size {size} from the inputs' shapes; " + LLM_HINT
            )
        return host

    def _size_expression(self, size: Any) -> str | None:
        """A size computed from input sizes (a flatten's `s1*s2`, a split's `s0//2`) as a
        host expression; None if a symbol in it comes from no input."""
        words = {**self.traced.symbols, "Min": "min", "Max": "max"}  # diagonals' lengths
        names = re.findall(r"[A-Za-z_]\w*", str(size))
        if not set(names) & self.traced.symbols.keys() or any(n not in words for n in names):
            return None
        host = re.sub(r"[A-Za-z_]\w*", lambda m: words[m.group(0)], str(size))
        # a sum or quotient stays one factor where products of sizes are written out
        return f"({host})" if re.search(r"[-+/%]", host) else host

    def _output(self, node: Any, name: str) -> Output:
        if isinstance(node, FxNode) and isinstance(self.values[node.name], NotLowered):
            op = f"aten.{self.values[node.name].op}"  # e.g. a pooling's indices
            raise Unsupported([op], f"the builtin agent cannot lower {op}; " + LLM_HINT)
        if not isinstance(node, FxNode) or not isinstance(self.values[node.name], Value):
            raise Unsupported(["<output>"], "forward returns a non-tensor; " + LLM_HINT)
        value = self.values[node.name]
        if value.kind == "load":
            value = Value(
                node.name + "_copy",
                "pw",
                value.level,
                value.dims,
                value.dtype,
                formula=identity,
                operands=[value],
                flipped=value.flipped,
            )
        val = node.meta["val"]
        if node.name in self.returned_views:  # written in the product's shape, then viewed
            shape = [self.host_size(s) for s in self.f_shape]
            returned = name + self.returned_views[node.name]
            return Output(value, name, shape, val.dtype, returned=returned)
        if value.regrouped and self.group_norm is not None:
            shape = [self.host_size(s) for s in shape_of(self.group_norm[1])]
            index = ("i0", self._channel(), *(f"i{d}" for d in range(3, self.rank)))
            return Output(value, name, shape, val.dtype, index=index)
        shape = [self.host_size(s) for s in val.shape]
        if len(value.dims) != val.dim() or any(
            d is None and not is_one(s) for d, s in zip(value.dims, val.shape, strict=True)
        ):
            raise Unsupported(["<output>"], "an output that broadcasts a value; " + LLM_HINT)
        if value.flipped:
            index = tuple(
                "0" if d is None else f"(n{d} - 1 - i{d})" if d in value.flipped else f"i{d}"
                for d in value.dims
            )
            return Output(value, name, shape, val.dtype, index=index)
        return Output(value, name, shape, val.dtype)

    def _walks_f(self, v: Value) -> bool:
        """Whether a load reads its source exactly in F's order (no broadcast, no permute)."""
        full = tuple(range(self.rank))
        return v.dims == full and v.index is None and self.sources[v.source].rank == self.rank

    def _plan(self) -> Plan:
        outs = self._output_nodes()
        names = ["out"] if len(outs) == 1 else [f"out{i}" for i in range(len(outs))]
        outputs = [self._output(node, name) for node, name in zip(outs, names, strict=True)]
        f_sizes = [self.host_size(s) for s in self.f_shape]
        if self.reduced:
            self.scalars["R"] = " * ".join(f_sizes[d] for d in self.reduced)
        flat = (
            not self.reduced
            and not self.uses_indices
            and self.dot is None
            and self.conv is None
            and all(self._walks_f(v) for v in reachable_loads([o.value for o in outputs]))
            and all(o.value.dims == tuple(range(self.rank)) and o.index is None for o in outputs)
        )
        if self.dot is not None:
            self.scalars["K"] = self.dot.k_size
        family = "matmul" if self.dot else "reduction" if self.reduced else "pointwise"
        family = "conv" if self.conv else family
        return Plan(
            family=family,
            rank=self.rank,
            f_sizes=f_sizes,
            reduced=self.reduced,
            sources=list(self.sources.values()),
            scalars=list(self.scalars.items()),
            outputs=outputs,
            fused=self.fused,
            reductions=self.reductions,
            flat=flat,
            dot=self.dot,
            conv=self.conv,
            has_cumprod=self.has_cumprod,
        )


def lower(traced: Traced) -> Plan:
    """The fused kernel plan for a traced reference (raises Unsupported)."""
    return Lowerer(traced).lower()
