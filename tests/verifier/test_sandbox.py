"""The kernel sandbox around the verifier's worker (docs/verifier.md, "Sandbox").

Hostile task files (``sandbox_jobs.py``) try, through dynamic
lookups, to write outside the worker's folder, read the home folder, copy a file out,
connect to a TCP port, run a shell, fork, read the parent's environment, or write through
libc. The side effect must not happen and the verdict names the sandbox.
"""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from verifier import Verifier, VerifyJob
from verifier.sandbox import plan
from verifier.sandbox_paths import worker_policy
from verifier.static_check import check_source

from .conftest import HERE, source
from .sandbox_jobs import UNNAMED, WRITES_OUTSIDE, attack_job

pytestmark = pytest.mark.skipif(
    plan().mechanism != "landlock", reason="needs a Linux kernel with Landlock"
)
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
CANARY = "AIKG_CANARY_SECRET"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder the test owns and the sandbox does not grant."""
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def warm(outside: Path, monkeypatch_module: pytest.MonkeyPatch) -> AsyncIterator[Verifier]:
    home = outside / "home"
    home.mkdir()
    (home / "secret.txt").write_text("hunter2-in-home")
    monkeypatch_module.setenv("HOME", str(home))
    monkeypatch_module.setenv(CANARY, "canary-value-4417")
    verifier = Verifier(mode="warm", cpu_memory_headroom_bytes=1 << 30)
    yield verifier
    await verifier.close()


@pytest.fixture(scope="module")
def monkeypatch_module() -> pytest.MonkeyPatch:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def nothing_connected(server: socket.socket) -> bool:
    readable, _, _ = select.select([server], [], [], 0.2)
    return not readable


@MODULE_LOOP
@pytest.mark.parametrize("name", WRITES_OUTSIDE)
async def test_no_file_appears_outside(warm: Verifier, outside: Path, name: str) -> None:
    target = outside / f"{name}.txt"
    result = await warm.verify(attack_job(name, target))
    assert not target.exists(), f"{name} wrote {target}"
    if name not in UNNAMED:
        assert (result.passed, result.stage) == (False, "sandbox"), result.message
    assert warm.sandbox_report is not None and warm.sandbox_report.confined


@MODULE_LOOP
async def test_home_folder_is_unreadable(warm: Verifier, outside: Path) -> None:
    result = await warm.verify(attack_job("read_home", outside / "unused"))
    assert "hunter2" not in result.message
    assert (result.passed, result.stage) == (False, "sandbox"), result.message
    assert "secret.txt" in result.message


@MODULE_LOOP
async def test_parent_environment_is_unreadable(warm: Verifier, outside: Path) -> None:
    result = await warm.verify(attack_job("parent_environ", outside / "unused"))
    assert "canary-value" not in result.message
    assert not result.passed


@MODULE_LOOP
async def test_no_tcp_connection(warm: Verifier, outside: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result = await warm.verify(attack_job("tcp_connect", outside / "unused", port))
    assert nothing_connected(listener)
    assert (result.passed, result.stage) == (False, "sandbox"), result.message


@MODULE_LOOP
async def test_candidate_writing_outside_is_rejected(warm: Verifier, outside: Path) -> None:
    target = outside / "from_candidate.txt"
    candidate = source("good/swish.py").replace(
        "        self.beta = beta\n",
        f"        self.beta = beta\n        open({str(target)!r}, 'w')\n",
    )
    assert not check_source(candidate)  # the static check lets it through: the kernel must not
    result = await warm.verify(VerifyJob(source("ref_swish.py"), candidate, trials=1))
    assert not target.exists()
    assert (result.passed, result.stage) == (False, "sandbox"), result.message


@MODULE_LOOP
async def test_honest_candidates_pass_inside(warm: Verifier) -> None:
    for reference, good in [("ref_swish.py", "swish"), ("ref_add_broadcast.py", "add_broadcast")]:
        result = await warm.verify(VerifyJob(source(reference), source(f"good/{good}.py")))
        assert result.passed, result.message


async def test_off_runs_unconfined(outside: Path) -> None:
    target = outside / "off.txt"
    async with Verifier(mode="oneshot", sandbox="off") as verifier:
        result = await verifier.verify(attack_job("write_outside", target))
    assert result.passed, result.message
    assert target.read_text() == "escaped"
    assert verifier.sandbox_report is not None and verifier.sandbox_report.mechanism == "off"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_gpu_worker_builds_its_launcher_and_closes_sockets_once_cuda_is_up(
    tmp_path: Path,
) -> None:
    """A GPU worker is under Landlock too (docs/verifier.md): Triton builds its launcher
    (gcc -shared against Python.h, into the private cache), the process may write its own
    /proc entries and open a unix socket (both what CUDA needs to start), not another's;
    after ``close_sockets`` no socket of any family opens, in any thread; no fork."""
    script = textwrap.dedent(
        """
        import os, socket, subprocess, sys, sysconfig
        from pathlib import Path
        from verifier import seccomp
        from verifier.sandbox import confine
        from verifier.sandbox_paths import prepare_environment, worker_policy
        scratch = Path(sys.argv[1])
        prepare_environment(scratch, gpu=True)
        report = confine(worker_policy(scratch, "auto", gpu=True))
        print(report.mechanism)
        src = scratch / "tmp" / "launcher.c"
        src.write_text("#include <Python.h>\\nint f(void) { return 1; }\\n")
        include = "-I" + sysconfig.get_paths()["include"]
        so = str(scratch / "cache" / "launcher.so")
        print(subprocess.run(["gcc", str(src), "-shared", "-fPIC", include, "-o", so]).returncode)
        def write(path):  # as glibc names another thread: open O_RDWR, no truncation
            fd = os.open(path, os.O_RDWR)
            os.write(fd, b"confined")
            os.close(fd)
        write("/proc/self/comm")
        def denied(action):
            try:
                action()
                return "allowed"
            except PermissionError:
                return "refused"
        print(denied(lambda: write(f"/proc/{os.getppid()}/comm")))
        socket.socket(socket.AF_UNIX).close()
        print(denied(lambda: socket.socket(socket.AF_INET)))
        seccomp.close_sockets()
        print(denied(lambda: socket.socket(socket.AF_UNIX)))
        print(denied(os.fork))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE.parent.parent,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr
    expected = ["landlock", "0", "refused", "refused", "refused", "refused"]
    assert done.stdout.split() == expected, done.stderr
    assert (tmp_path / "cache" / "launcher.so").exists()


def test_a_compiler_in_its_own_prefix_brings_the_prefix_and_its_scripts_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on the GPU machine: ``$CC`` is /opt/gcc/bin/gcc, a ``#!/bin/sh`` wrapper around
    gcc-real with -B flags into its prefix; the worker may run all three, nothing else new."""
    prefix = tmp_path / "gcc"
    (prefix / "bin").mkdir(parents=True)
    wrapper = prefix / "bin" / "gcc"
    wrapper.write_text('#!/bin/sh\nexec "$(dirname "$0")/gcc-real" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    policy = worker_policy(tmp_path / "scratch", "auto", gpu=True)
    assert policy.allows_execute(wrapper)
    assert policy.allows_execute(prefix / "bin" / "gcc-real")
    assert policy.allows_execute("/bin/sh")
    assert not policy.allows_execute(tmp_path / "elsewhere")
    assert not worker_policy(tmp_path / "scratch", "auto", gpu=False).allows_execute("/bin/sh")


def aikg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aikg", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("setting", "flags", "needle"),
    [
        ("off", ["--require-sandbox"], "--require-sandbox: sandbox off"),
        ("bwrap", [], "'verifier.sandbox'"),
    ],
)
def test_command_refuses_a_sandbox_it_cannot_keep(
    tmp_path: Path, setting: str, flags: list[str], needle: str
) -> None:
    (tmp_path / "config.yaml").write_text(f"verifier:\n  sandbox: {setting}\n")
    task = HERE.parent.parent / "examples" / "swish.py"
    done = aikg("run", str(task), "--config", "config.yaml", *flags, cwd=tmp_path)
    assert done.returncode == 2
    assert needle in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / ".aikg").exists()  # refused before anything was recorded
