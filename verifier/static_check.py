"""Static (AST) checks on a candidate's source, run before any of it executes.

Each finding names the line and the rule it breaks, so a coder can act on it. The rules are
kept practical: a kernel wrapper in the style of the Triton tutorials (``torch.empty_like``,
``x.numel()``, ``triton.cdiv``, ``kernel[grid](...)``, ``.view``/``.reshape``/``.stride()``/
``.shape``/``.contiguous()``) passes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

BANNED_MODULES = {
    "subprocess": "no subprocesses",
    "socket": "no network access",
    "ctypes": "no ctypes",
    "cffi": "no foreign-function interfaces",
    "threading": "no threads",
    "_thread": "no threads",
    "multiprocessing": "no extra processes",
    "concurrent": "no threads or extra processes",
    "asyncio": "no event loops",
    "signal": "no signal handling",
    "gc": "no introspection of other objects (gc)",
    "inspect": "no introspection of the verifier (inspect)",
    "importlib": "no dynamic imports",
    "pickle": "no pickle",
    "marshal": "no marshal",
    "builtins": "no patching of builtins",
    "http": "no network access",
    "urllib": "no network access",
    "requests": "no network access",
    "shutil": "no file-system manipulation",
    "verifier": "no access to the verifier",
}
BANNED_BUILTINS = {
    "exec": "no exec",
    "eval": "no eval",
    "compile": "no compile",
    "__import__": "no __import__",
    "globals": "no access to globals()",
    "locals": "no access to locals()",
    "vars": "no vars(): no dynamic attribute access",
    "operator.attrgetter": "no attrgetter: no dynamic attribute access",
    "operator.methodcaller": "no methodcaller: no dynamic attribute access",
    "breakpoint": "no breakpoint",
    "setattr": "no setattr (monkey-patching)",
    "delattr": "no delattr (monkey-patching)",
}
# Attributes that reach a module's or object's namespace behind the static rules' back.
DYNAMIC_ATTRIBUTES = {
    "__dict__",
    "__getattribute__",
    "__globals__",
    "__builtins__",
    "__subclasses__",
    "__code__",
    "__closure__",
    "modules",  # sys.modules
}
STREAM_NAMES = {"Stream", "stream", "ExternalStream", "set_stream", "StreamContext"}
PATCH_TARGETS = {"time", "synchronize", "Event", "elapsed_time", "perf_counter", "record"}
# torch.* calls allowed in forward: allocation, shape helpers, dtypes and devices.
TORCH_ALLOWED = {
    "empty",
    "empty_like",
    "empty_strided",
    "zeros",
    "zeros_like",
    "ones",
    "ones_like",
    "full",
    "full_like",
    "arange",
    "device",
    "Size",
    "finfo",
    "iinfo",
    "is_tensor",
    "is_floating_point",
    "broadcast_shapes",
    "broadcast_tensors",
    "promote_types",
    "result_type",
    "get_default_dtype",
    "get_device",
    "current_device",
    "device_count",
    "is_available",
    "get_device_properties",
    "get_device_capability",
    "cdiv",
    "synchronize",
    "no_grad",
    "inference_mode",
}
TENSOR_COMPUTE_METHODS = set(
    [
        "abs",
        "abs_",
        "acos",
        "add",
        "add_",
        "addbmm",
        "addcdiv",
        "addcmul",
        "addmm",
        "addmv",
        "all",
        "amax",
        "amin",
        "any",
        "argmax",
        "argmin",
        "argsort",
        "asin",
        "atan",
        "atan2",
        "baddbmm",
        "bmm",
        "ceil",
        "clamp",
        "clamp_",
        "clip",
        "clone",
        "copy_",
        "cos",
        "cosh",
        "cross",
        "cumprod",
        "cumsum",
        "diag",
        "div",
        "div_",
        "dot",
        "einsum",
        "eq",
        "erf",
        "exp",
        "exp_",
        "expm1",
        "fill_",
        "flip",
        "floor",
        "fmod",
        "frac",
        "ge",
        "gather",
        "gelu",
        "gt",
        "index_add",
        "index_add_",
        "index_copy",
        "index_fill",
        "index_put",
        "index_put_",
        "index_select",
        "inner",
        "kthvalue",
        "le",
        "lerp",
        "log",
        "log10",
        "log1p",
        "log2",
        "log_softmax",
        "logcumsumexp",
        "logsumexp",
        "lt",
        "masked_fill",
        "masked_fill_",
        "masked_scatter",
        "masked_select",
        "matmul",
        "max",
        "maximum",
        "mean",
        "median",
        "min",
        "minimum",
        "mm",
        "mode",
        "mul",
        "mul_",
        "mv",
        "nan_to_num",
        "nanmean",
        "nansum",
        "ne",
        "neg",
        "norm",
        "outer",
        "pow",
        "prod",
        "reciprocal",
        "relu",
        "relu_",
        "remainder",
        "renorm",
        "repeat",
        "repeat_interleave",
        "roll",
        "round",
        "rsqrt",
        "scatter",
        "scatter_",
        "scatter_add",
        "sigmoid",
        "sigmoid_",
        "sign",
        "silu",
        "sin",
        "sinh",
        "softmax",
        "sort",
        "sqrt",
        "square",
        "std",
        "sub",
        "sub_",
        "sum",
        "tan",
        "tanh",
        "tensordot",
        "topk",
        "trace",
        "tril",
        "triu",
        "true_divide",
        "trunc",
        "unique",
        "var",
        "where",
        "zero_",
        "normal_",
        "uniform_",
        "random_",
        "bernoulli_",
        "exponential_",
        "cauchy_",
        "log_normal_",
        "geometric_",
        "multinomial",
        "numpy",
        "tolist",
        "item",
    ]
)


@dataclass(frozen=True)
class Finding:
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Aliases:
    """Resolves local names to the dotted module paths they were imported as."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.names[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def resolve(self, node: ast.AST) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.names.get(head)
        if base is None:
            return dotted
        return f"{base}.{rest}" if rest else base


def _is_triton_jit(decorator: ast.AST, aliases: _Aliases) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = aliases.resolve(target) or ""
    return name in {"triton.jit", "triton.autotune", "triton.heuristics"} or name.endswith(
        ("runtime.jit.jit", "triton.jit")
    )


class _Checker:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.aliases = _Aliases(tree)
        self.findings: list[Finding] = []
        self.kernels: set[str] = set()
        self.functions: dict[str, ast.FunctionDef] = {}
        self.model_new: ast.ClassDef | None = None

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), rule, message))

    def run(self) -> list[Finding]:
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(_is_triton_jit(d, self.aliases) for d in node.decorator_list):
                    self.kernels.add(node.name)
                else:
                    self.functions[node.name] = node  # type: ignore[assignment]
            elif isinstance(node, ast.ClassDef) and node.name == "ModelNew":
                self.model_new = node
            elif isinstance(node, ast.Assign):
                self._check_module_assign(node)
        self._check_everywhere()
        self._check_model_new()
        return sorted(self.findings, key=lambda f: f.line)

    def _check_module_assign(self, node: ast.Assign) -> None:
        mutable = isinstance(node.value, (ast.Dict, ast.List, ast.Set)) or (
            isinstance(node.value, ast.Call)
            and (self.aliases.resolve(node.value.func) or "").split(".")[-1]
            in {"dict", "list", "set", "defaultdict", "OrderedDict", "WeakValueDictionary"}
        )
        if mutable and _container_is_empty(node.value):
            names = ", ".join(_dotted(t) or "?" for t in node.targets)
            self.add(
                node,
                "module-state",
                f"module-level mutable container {names}: no module state that could cache "
                "outputs between calls; keep state on the ModelNew instance or drop it",
            )

    def _check_everywhere(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._check_import(node)
            elif isinstance(node, ast.Call):
                self._check_call(node)
            elif isinstance(node, ast.Assign):
                self._check_patch(node)
            elif isinstance(node, ast.ExceptHandler):
                self._check_except(node)
            elif isinstance(node, ast.Global):
                self.add(node, "module-state", "no `global` statements: no module-level caches")
            elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRIBUTES:
                self._check_dynamic_attribute(node)
            elif isinstance(node, ast.Attribute) and node.attr in STREAM_NAMES:
                base = self.aliases.resolve(node.value) or ""
                if base.startswith("torch") or base.startswith("triton"):
                    self.add(node, "streams", f"no CUDA streams ({base}.{node.attr})")

    def _check_import(self, node: ast.Import | ast.ImportFrom) -> None:
        modules = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        for module in modules:
            top = module.split(".")[0]
            if top in BANNED_MODULES:
                self.add(node, "banned-import", f"import of {module}: {BANNED_MODULES[top]}")

    def _check_call(self, node: ast.Call) -> None:
        name = self.aliases.resolve(node.func) or ""
        if name in BANNED_BUILTINS:
            self.add(node, "banned-call", f"{name}(): {BANNED_BUILTINS[name]}")
        if name == "getattr":
            self._check_getattr(node)
        if name in {"os.system", "os.popen", "os.fork", "os.execv", "os.execve", "os.spawnv"}:
            self.add(node, "banned-call", f"{name}(): no subprocesses")
        if name.startswith("sys.") and name.split(".")[-1] in {"settrace", "setprofile"}:
            self.add(node, "banned-call", f"{name}(): no tracing hooks")

    def _check_getattr(self, node: ast.Call) -> None:
        """getattr on a module, or with a computed name: torch ops the rules cannot see."""
        if not node.args:
            return
        target = node.args[0]
        head = (_dotted(target) or "").split(".")[0]
        if head in self.aliases.names:
            self.add(
                node,
                "dynamic-attribute",
                f"getattr() on {_dotted(target)}: name library functions directly "
                f"({_dotted(target)}.NAME) so the rules can check them",
            )
            return
        literal = len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
        if not literal and head != "self":
            self.add(
                node,
                "dynamic-attribute",
                "getattr() with a computed name: use a literal attribute name",
            )

    def _check_dynamic_attribute(self, node: ast.Attribute) -> None:
        base = _dotted(node.value) or ""
        if node.attr == "modules" and not (self.aliases.resolve(node.value) or "").endswith("sys"):
            return
        self.add(
            node,
            "dynamic-attribute",
            f"{base}.{node.attr}: no reaching into namespaces; name what you use directly",
        )

    def _check_patch(self, node: ast.Assign) -> None:
        for target in node.targets:
            if not isinstance(target, ast.Attribute):
                continue
            name = self.aliases.resolve(target) or ""
            root = name.split(".")[0]
            if root in {"time", "torch", "triton", "os", "sys", "numpy", "verifier"} or (
                target.attr in PATCH_TARGETS and root != "self"
            ):
                self.add(
                    node,
                    "monkey-patch",
                    f"assignment to {name}: no monkey-patching of libraries, timers or "
                    "synchronisation",
                )

    def _check_except(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            self.add(node, "swallowed-exception", "bare `except:`; catch a specific exception")
            return
        broad = (self.aliases.resolve(node.type) or "") in {"Exception", "BaseException"}
        only_pass = all(isinstance(s, (ast.Pass, ast.Continue)) for s in node.body) or all(
            isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in node.body
        )
        if broad and only_pass:
            self.add(
                node,
                "swallowed-exception",
                "`except Exception: pass` hides failures; let the error propagate",
            )

    def _check_model_new(self) -> None:
        if self.model_new is None:
            self.findings.append(
                Finding(0, "model-new", "no class ModelNew: define class ModelNew(nn.Module)")
            )
            return
        methods = {
            n.name: n
            for n in self.model_new.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        forward = methods.get("forward")
        if forward is None:
            self.add(self.model_new, "model-new", "ModelNew has no forward method")
            return
        seen: set[str] = set()
        launches = self._walk_forward(forward, methods, seen)
        if not launches:
            self.add(
                forward,
                "no-kernel",
                "forward launches no @triton.jit kernel (kernel[grid](...)), directly or "
                "through a helper function",
            )

    def _walk_forward(self, func: ast.AST, methods: dict[str, ast.AST], seen: set[str]) -> int:
        """Checks forward and the helpers it calls; returns the number of kernel launches."""
        launches = 0
        for node in ast.walk(func):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                self.add(node, "torch-compute", "`@` matmul in forward: compute it in a kernel")
            if not isinstance(node, ast.Call):
                continue
            func_node = node.func
            if isinstance(func_node, ast.Subscript):
                kernel = _dotted(func_node.value) or ""
                if kernel.split(".")[-1] in self.kernels:
                    launches += 1
                continue
            name = self.aliases.resolve(func_node) or ""
            leaf = name.split(".")[-1]
            if name.startswith("torch."):
                if leaf not in TORCH_ALLOWED:
                    self.add(
                        node,
                        "torch-compute",
                        f"{name}() in forward does the work in torch; only allocation, views "
                        "and kernel launches are allowed",
                    )
                continue
            if isinstance(func_node, ast.Attribute) and leaf in TENSOR_COMPUTE_METHODS:
                self.add(
                    node,
                    "torch-compute",
                    f".{leaf}() in forward computes with torch; do it inside a Triton kernel",
                )
                continue
            helper: ast.AST | None = None
            if name in self.functions:
                helper = self.functions[name]
            elif name.startswith("self.") and name[5:] in methods:
                helper = methods[name[5:]]
            if helper is not None and name not in seen:
                seen.add(name)
                launches += self._walk_forward(helper, methods, seen)
            if leaf == "run" and name[: -len(".run")].split(".")[-1] in self.kernels:
                launches += 1
        return launches


def _container_is_empty(node: ast.AST) -> bool:
    if isinstance(node, (ast.Dict,)):
        return not node.keys
    if isinstance(node, (ast.List, ast.Set)):
        return not node.elts
    return isinstance(node, ast.Call)


def check_source(source: str) -> list[Finding]:
    """Returns the rule violations in a candidate's source (empty when it may run)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [Finding(exc.lineno or 0, "syntax", f"syntax error: {exc.msg}")]
    return _Checker(tree).run()


def task_source_problems(source: str) -> list[str]:
    """What a reference task file lacks (Model, get_inputs), found without running it."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.msg}"]
    names = {
        n.name
        for n in tree.body
        if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    }
    names |= {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    return [f"no {want} defined" for want in ("Model", "get_inputs") if want not in names]
