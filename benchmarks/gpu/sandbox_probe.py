"""Which part of the verifier's sandbox stops CUDA (issue 23, docs/verifier.md "Sandbox").

Each variant runs in a fresh child process: it confines itself with one piece of the
sandbox (a Landlock ruleset with or without its scopes, file rules or TCP rules; a seccomp
socket ban, whole or sparing unix sockets), then starts CUDA, runs a torch op and compiles
and launches a Triton kernel. The unconfined child also lists the sockets CUDA opened,
with their family and address, which is what a socket rule must spare. Run from the
repository root on the GPU machine:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/sandbox_probe.py [--json OUT]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

VARIANTS = (
    "none",
    "seccomp-no-sockets",
    "seccomp-unix-only",
    "landlock-scope-abstract",
    "landlock-scope-signal",
    "landlock-tcp",
    "landlock-files",
    "landlock-files-everything",
    "landlock-full",
    "landlock-full-no-abstract",
    "sandbox-gpu",  # the whole GPU sandbox, sockets closed once CUDA is up
)


def _ruleset(fs: bool, tcp: bool, scopes: int, rules: list[object]) -> None:
    from verifier import landlock as ll

    abi = ll.abi_version()
    handled = ll.fs_rights(abi) if fs else 0
    attr = ll._RulesetAttr(handled, ll.NET_BIND_TCP | ll.NET_CONNECT_TCP if tcp else 0, scopes)
    ruleset = ll._syscall(ll._SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(24), 0)
    for rule in rules:
        ll._add_path_rule(ruleset, rule, handled)  # type: ignore[arg-type]
    ll._syscall(ll._SYS_RESTRICT_SELF, ruleset, 0)
    os.close(ruleset)


def _worker_rules(scratch: Path) -> list[object]:
    from verifier.sandbox_paths import prepare_environment, worker_policy

    prepare_environment(scratch, gpu=True)
    tempfile.tempdir = None  # computed before TMPDIR pointed into the scratch folder
    return worker_policy(scratch, "auto", gpu=True).rules()  # type: ignore[return-value]


def _extra_rules(variant: str) -> list[object]:
    """``landlock-files+/dev:all,/:read``: the worker's rules plus these grants."""
    from verifier import landlock as ll

    rights = {
        "all": ll.fs_rights(ll.abi_version()),
        "read": ll.READ,
        "exec": ll.READ | ll.EXECUTE,
        "write": ll.READ | ll.WRITE,
        "ioctl": ll.READ_FILE | ll.WRITE_FILE | ll.IOCTL_DEV,
        "make": ll.MAKE_CHAR | ll.MAKE_BLOCK | ll.MAKE_SOCK | ll.MAKE_FIFO,
    }
    grants = variant.split("+", 1)[1].split(",")
    return [ll.PathRule(g.rsplit(":", 1)[0], rights[g.rsplit(":", 1)[1]]) for g in grants]


def confine(variant: str, scratch: Path) -> None:
    from verifier import landlock as ll
    from verifier import seccomp

    if variant == "none":
        return
    seccomp.set_no_new_privs()
    if variant == "seccomp-no-sockets":
        seccomp.install(allow_spawn=True)
    elif variant == "seccomp-unix-only":
        seccomp.install(allow_spawn=True, allow_unix_sockets=True)
    elif variant == "landlock-scope-abstract":
        _ruleset(False, False, ll.SCOPE_ABSTRACT_UNIX_SOCKET, [])
    elif variant == "landlock-scope-signal":
        _ruleset(False, False, ll.SCOPE_SIGNAL, [])
    elif variant == "landlock-tcp":
        _ruleset(False, True, 0, [])
    elif variant == "landlock-files":
        _ruleset(True, False, 0, _worker_rules(scratch))
    elif variant.startswith("landlock-files+"):
        _ruleset(True, False, 0, _worker_rules(scratch) + _extra_rules(variant))
    elif variant.startswith("landlock-full+"):
        scopes = ll.SCOPE_ABSTRACT_UNIX_SOCKET | ll.SCOPE_SIGNAL
        _ruleset(True, True, scopes, _worker_rules(scratch) + _extra_rules(variant))
    elif variant == "landlock-files-everything":
        _ruleset(True, False, 0, [ll.PathRule("/", ll.fs_rights(ll.abi_version()))])
    elif variant == "landlock-full":
        _ruleset(
            True, True, ll.SCOPE_ABSTRACT_UNIX_SOCKET | ll.SCOPE_SIGNAL, _worker_rules(scratch)
        )
    elif variant == "landlock-full-no-abstract":
        _ruleset(True, True, ll.SCOPE_SIGNAL, _worker_rules(scratch))
    elif variant == "sandbox-gpu":
        from verifier.sandbox import confine as sandbox_confine
        from verifier.sandbox_paths import prepare_environment, worker_policy

        prepare_environment(scratch, gpu=True)
        tempfile.tempdir = None
        sandbox_confine(worker_policy(scratch, "auto", gpu=True))
    else:
        raise SystemExit(f"unknown variant {variant}")


def sockets_of_self() -> list[str]:
    """Every socket this process holds: family and, for unix sockets, the address."""
    tables: dict[str, str] = {}
    for name in ("unix", "netlink", "tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            inode = (
                parts[6]
                if name == "unix"
                else parts[9]
                if name.startswith(("tcp", "udp"))
                else parts[-1]
            )
            address = parts[7] if name == "unix" and len(parts) > 7 else ""
            tables[inode] = f"{name} {address}".strip()
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inode = target[8:-1]
            found.append(f"fd {fd}: {tables.get(inode, 'unknown family')} (inode {inode})")
    return found


KERNEL = """
import triton
import triton.language as tl

@triton.jit
def add_one(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=mask) + 1, mask=mask)
"""


def child(variant: str) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="probe-"))
    row: dict[str, object] = {"variant": variant}
    started = time.perf_counter()
    try:
        confine(variant, scratch)
        row["confined"] = True
    except Exception as exc:
        row.update(confined=False, error=f"confine: {type(exc).__name__}: {exc}")
        return row
    try:
        import torch

        row["device_count"] = torch.cuda.device_count()
        x = torch.zeros(1024, device="cuda") + 1
        torch.cuda.synchronize()
        row["torch_op"] = float(x.sum().item())
        row["sockets"] = sockets_of_self()
        if variant == "sandbox-gpu":
            from verifier import seccomp

            seccomp.close_sockets()
            try:
                socket.socket(socket.AF_UNIX).close()
                row["unix_socket_after_close"] = "ALLOWED"
            except OSError as exc:
                row["unix_socket_after_close"] = f"denied: {exc}"
        module_path = scratch / "probe_kernel.py"
        module_path.write_text(KERNEL)
        sys.path.insert(0, str(scratch))
        import probe_kernel  # type: ignore[import-not-found]

        probe_kernel.add_one[(4,)](x, x.numel(), BLOCK=256)
        torch.cuda.synchronize()
        row["triton_ok"] = bool(torch.all(x == 2).item())
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    rows = []
    for variant in args.variants:
        done = subprocess.run(
            [sys.executable, __file__, "--child", variant],
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        row = json.loads(lines[-1]) if lines else {"variant": variant, "error": done.stderr[-600:]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
