"""The built-in agent's own process: `python -m machine.builtin_worker`.

The built-in agent loads the task file and traces its `Model`: that is user code, so it
runs here, never in the aikg process. The process starts with the verifier worker's
scrubbed environment in a private folder, confines itself with the verifier worker's
sandbox policy (`verifier.sandbox_paths.worker_policy`: the interpreter and libraries
read-only, the private folder writable, no network, no new processes; plus reading the
`agents/` package) before it imports torch or reads any request,
and speaks the verifier worker's protocol (`verifier/process.py`): a nonce line, a ready
reply, then per line `{"role": "design" | "code", "request": {...}}` answered with
`{"reply": {...}}` or `{"error": {"reason", "message", "ops"}}`. fd 1 is pointed at
stderr so the reference's prints cannot corrupt the answers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

from verifier.sandbox import SandboxReport, confine
from verifier.sandbox_paths import worker_policy
from verifier.sandbox_worker import SANDBOX_ENV, WORKER_FOLDER_PREFIX, scratch_folder

AGENTS_DIR = Path(__file__).resolve().parent.parent / "agents"  # what it imports once confined


def confine_agent(workdir: Path) -> SandboxReport:
    """Confines this process as the verifier's worker is, able to read `agents/` too."""
    scratch = scratch_folder(workdir)
    temporary = scratch / "tmp"  # the only place it may write; it compiles nothing
    temporary.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(temporary)
    mode = os.environ.get(SANDBOX_ENV, "auto")
    return confine(worker_policy(scratch, mode, gpu=False, extra_read=(str(AGENTS_DIR),)))


def _send(stream: TextIO, nonce: str, message: dict[str, Any]) -> None:
    stream.write(json.dumps({"nonce": nonce, **message}) + "\n")
    stream.flush()


def answer(message: dict[str, Any]) -> dict[str, Any]:
    """One request's reply or error; never raises for a bad reference."""
    from agents.builtin.provider import plan_design, write_code
    from agents.messages import error_to_dict, reply_to_dict, request_from_dict
    from agents.types import AgentError

    request = request_from_dict(message["request"])
    work = plan_design if message["role"] == "design" else write_code
    try:
        return {"reply": reply_to_dict(work(request))}
    except AgentError as exc:
        return {"error": error_to_dict(exc)}
    except Exception as exc:  # a reference the lowering did not expect: say what broke
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        message_text = (
            f"the built-in agent failed on this reference ({type(exc).__name__}: {first})"
        )
        return {"error": {"reason": "unsupported", "message": message_text, "ops": ["<reference>"]}}


def main() -> int:
    sandbox = confine_agent(Path.cwd())  # before any thread, import or user code
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    nonce = sys.stdin.readline().strip()
    import agents.builtin.provider  # noqa: F401  (torch, before saying ready)

    _send(protocol, nonce, {"ready": True, "pid": os.getpid(), "sandbox": sandbox.to_dict()})
    for line in sys.stdin:  # ends when the aikg process closes the pipe or dies
        if line.strip():
            _send(protocol, nonce, answer(json.loads(line)))
    private = Path.cwd().parent
    if private.name.startswith(WORKER_FOLDER_PREFIX):  # only the folder made for this process
        shutil.rmtree(private, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
