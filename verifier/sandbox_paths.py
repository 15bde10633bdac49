"""Which paths a sandboxed Python + torch + Triton process needs: the verifier worker's policy.

Reads: the interpreter's prefixes and every ``sys.path`` folder (but never a folder that
holds the home folder, and of this repository only ``verifier/``), the system libraries
(/usr, /lib*), a few /etc files the loader and libc read, /proc and /sys. Writes: the
worker's private folder only (its temporary files and its own Triton/torch/CUDA caches
live there). Runs: nothing on a CPU; on a GPU the toolchain Triton calls (ptxas, the C
compiler for its launcher and its helpers) — not a shell, not Python.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from verifier.sandbox import SandboxPolicy, beneath

PACKAGE_DIR = Path(__file__).resolve().parent  # verifier/
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/opt",
    "/proc",
    "/sys",
)
ETC_READ = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "passwd",
    "group",
    "nsswitch.conf",
    "localtime",
    "timezone",
    "os-release",
    "host.conf",
    "gai.conf",
    "nvidia",
)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
GPU_DEVICE_GLOBS = (
    "/dev/nvidia*",
    "/dev/nvidia-caps",
    "/dev/dri",
    "/dev/davinci*",
    "/dev/devmm_svm",
    "/dev/hisi_hdc",
)
LOADER_GLOBS = (
    "/lib64/ld-linux*.so*",
    "/lib/ld-linux*.so*",
    "/lib/*/ld-linux*.so*",
    "/lib/ld-musl*",
)
# ``file``: platform.architecture() runs it (Triton and torch call that while building).
TOOLCHAIN = ("cc", "gcc", "g++", "c++", "clang", "clang++", "as", "ld", "ptxas", "file")
TOOLCHAIN_DIRS = ("/usr/lib/gcc", "/usr/libexec/gcc", "/usr/lib/llvm*/bin", "/usr/local/cuda*/bin")

# Set in the worker's environment before torch or Triton read it, so that every cache and
# temporary file lands in the private folder (not ~/.triton, ~/.cache or /tmp).
CACHE_ENV = {
    "TMPDIR": "tmp",
    "TRITON_HOME": "cache",
    "TRITON_CACHE_DIR": "cache/triton",
    "TORCHINDUCTOR_CACHE_DIR": "cache/inductor",
    "XDG_CACHE_HOME": "cache",
    "CUDA_CACHE_PATH": "cache/nv",
}
# torch.compile compiles in the worker itself: no pool of Python processes to spawn.
SETTINGS_ENV = {"TORCHINDUCTOR_COMPILE_THREADS": "1"}


def prepare_environment(scratch: Path, gpu: bool) -> None:
    """Before confinement: points temporary files and compiler caches of this process into
    ``scratch``; on a GPU also tells Triton where libcuda is (it would otherwise run
    ``/sbin/ldconfig``, on some systems a shell script, which the sandbox cannot run)."""
    for name, relative in CACHE_ENV.items():
        folder = scratch / relative
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(folder)
    os.environ.update(SETTINGS_ENV)
    if gpu and "TRITON_LIBCUDA_PATH" not in os.environ:
        found = libcuda_dir()
        if found:
            os.environ["TRITON_LIBCUDA_PATH"] = found


def libcuda_dir() -> str | None:
    """The folder of libcuda.so.1 as the loader's cache lists it (what Triton looks up)."""
    try:
        listing = subprocess.run(
            ["/sbin/ldconfig", "-p"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        if "libcuda.so.1" in line:
            return os.path.dirname(line.split()[-1])
    return None


def _existing(paths: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for path in paths:
        if path and os.path.exists(path):
            seen.setdefault(os.path.realpath(path), None)
    return tuple(seen)


def _globbed(patterns: tuple[str, ...]) -> list[str]:
    return [path for pattern in patterns for path in glob.glob(pattern)]


def loaders() -> list[str]:
    """The dynamic loaders a program needs to run (it is executed as the program starts)."""
    return _globbed(LOADER_GLOBS)


def _holds_home(path: str) -> bool:
    home = os.path.realpath(os.path.expanduser("~"))
    real = os.path.realpath(path)
    return home == real or home.startswith(real.rstrip("/") + "/")


def import_paths() -> tuple[list[str], list[str]]:
    """(folders to read, folders only to list): the interpreter and ``sys.path``; of the
    folder holding this package, only the package itself."""
    root = str(PACKAGE_DIR.parent)
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    entries = [p for p in (*prefixes, *sys.path) if p and not _holds_home(p)]
    read = [p for p in entries if os.path.realpath(p) != root]
    return [*read, str(PACKAGE_DIR)], [root]


def _package_dir(name: str) -> list[str]:
    spec = importlib.util.find_spec(name)
    return list(spec.submodule_search_locations or []) if spec else []


def toolchain() -> list[str]:
    """Programs Triton runs on a GPU: ptxas (Triton's, torch's or CUDA's) and the C compiler that
    builds its launcher (``$CC`` first, as Triton does; with cc1, as, ld); resolved to real
    files. A compiler installed in a prefix of its own (``/opt/gcc/bin/gcc``) brings that
    prefix, and a compiler that is a script (a wrapper adding ``-B`` flags) its interpreter."""
    names = [os.environ.get(v, "").split(" ")[0] for v in ("CC", "CXX")]
    found = [p for p in (shutil.which(n) for n in (*names, *TOOLCHAIN) if n) if p]
    bundled = [os.path.join(d, "backends", "nvidia", "bin") for d in _package_dir("triton")]
    bundled += [os.path.join(d, "bin") for d in _package_dir("torch")]  # inductor's ptxas
    cuda = [
        os.path.join(os.environ[v], "bin") for v in ("CUDA_HOME", "CUDA_PATH") if v in os.environ
    ]
    extra = [*_own_prefixes(found), *_interpreters(found)]
    return [*found, *bundled, *cuda, *_globbed(TOOLCHAIN_DIRS), *extra]


SHARED_PREFIXES = ("/", "/usr", "/usr/local")


def _own_prefixes(programs: list[str]) -> list[str]:
    """``/opt/gcc`` for ``/opt/gcc/bin/gcc``: the install prefix of a program kept apart
    from the system's (the system prefixes would let every program run)."""
    prefixes = []
    for program in programs:
        folder = os.path.dirname(os.path.realpath(program))
        prefix = os.path.dirname(folder)
        own = os.path.basename(folder) == "bin" and prefix not in SHARED_PREFIXES
        if own and not _holds_home(prefix) and not _under_home(prefix):
            prefixes.append(prefix)
    return prefixes


def _under_home(path: str) -> bool:
    return beneath(os.path.realpath(path), (os.path.realpath(os.path.expanduser("~")),))


def _interpreters(programs: list[str]) -> list[str]:
    """The interpreter named on the ``#!`` line of each program that is a script."""
    found = []
    for program in programs:
        try:
            with open(program, "rb") as file:
                head = file.readline(256)
        except OSError:
            continue
        if head.startswith(b"#!"):
            words = head[2:].decode(errors="replace").split()
            if words:
                found.append(words[0])
    return found


def worker_policy(
    scratch: Path, mode: str, gpu: bool, extra_read: tuple[str, ...] = ()
) -> SandboxPolicy:
    """The verifier worker's policy; ``scratch`` is its private folder."""
    read, list_only = import_paths()
    read += [p for p in SYSTEM_READ if not _holds_home(p)]
    read += [os.path.join("/etc", name) for name in ETC_READ]
    read += list(extra_read)
    execute: list[str] = []
    devices = list(DEVICES)
    write = [str(scratch)]
    if gpu:
        execute += [*loaders(), *toolchain()]
        devices += _globbed(GPU_DEVICE_GLOBS)
        write.append("/dev/shm")
    return SandboxPolicy(
        read=_existing(read),
        write=_existing(write),
        execute=_existing(execute),
        devices=_existing(devices),
        list_only=_existing(list_only),
        allow_spawn=gpu,
        mode=mode,
        gpu=gpu,
    )
