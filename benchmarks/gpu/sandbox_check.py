"""The verifier's sandbox on a GPU (issue 23, docs/verifier.md "Sandbox"): a real Triton
kernel verified and profiled (torch.compile included) by a confined warm worker, then the
hostile task files of tests/verifier/sandbox_attacks/ through the same worker, then the
kernel again. Run from the repository root on the GPU machine:

    . benchmarks/gpu/setup.sh && python3 benchmarks/gpu/sandbox_check.py [--device cuda:0]

Prints one line per check and exits 1 if any fails (``--json OUT`` writes them too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.verifier.sandbox_jobs import UNNAMED, WRITES_OUTSIDE, attack_job  # noqa: E402
from verifier import Verifier, VerifyJob, VerifyResult  # noqa: E402
from verifier.sandbox import plan  # noqa: E402

HERE = ROOT / "tests" / "verifier"


def honest_job(device: str, task_type: str) -> VerifyJob:
    reference = (HERE / "ref_swish.py").read_text()
    candidate = (HERE / "good" / "swish.py").read_text()
    return VerifyJob(reference, candidate, device=device, task_type=task_type, timeout_s=600)


class Checks:
    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.rows.append({"check": name, "ok": ok, "detail": detail})
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)

    def honest(self, name: str, result: VerifyResult) -> None:
        timing = ""
        if result.timings:
            speedups = (result.timings.get(k) for k in ("speedup_vs_eager", "speedup_vs_compile"))
            timing = " speedups " + "/".join(f"{s:.2f}" if s else "-" for s in speedups)
        self.add(name, result.passed, f"{result.stage} {result.message[:200]}{timing}")

    def rejected(self, name: str, result: VerifyResult, leaked: bool) -> None:
        ok = not leaked and (name in UNNAMED or result.stage == "sandbox")
        detail = f"stage {result.stage}, side effect {'HAPPENED' if leaked else 'none'}"
        self.add(name, ok, f"{detail}: {result.message[:160]}")


async def run(device: str, checks: Checks) -> None:
    gpu = device.startswith("cuda")
    report = plan("auto", gpu)
    checks.add("plan", report.confined, report.describe())
    outside = Path(tempfile.mkdtemp(prefix="sandbox-check-"))
    (outside / "home").mkdir()
    (outside / "home" / "secret.txt").write_text("hunter2-in-home")
    os.environ["HOME"] = str(outside / "home")  # the workers' home folder
    os.environ["AIKG_CANARY_SECRET"] = "canary-value-4417"  # in this process's environment
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    async with Verifier(mode="warm", sandbox="auto") as verifier:
        result = await verifier.verify(honest_job(device, "precision_only"))
        checks.honest("swish precision", result)
        worker = verifier.sandbox_report
        checks.add("worker", bool(worker and worker.confined), str(worker and worker.describe()))
        checks.honest("swish profile", await verifier.verify(honest_job(device, "profile")))
        for name in WRITES_OUTSIDE:
            target = outside / f"{name}.txt"
            result = await verifier.verify(attack_job(name, target, device=device))
            checks.rejected(name, result, leaked=target.exists())
        for name, secret in (("read_home", "hunter2"), ("parent_environ", "canary-value")):
            result = await verifier.verify(attack_job(name, outside, device=device))
            checks.rejected(name, result, leaked=secret in result.message)
        port = server.getsockname()[1]
        result = await verifier.verify(attack_job("tcp_connect", outside, port, device))
        connected = bool(select.select([server], [], [], 1)[0])
        checks.rejected("tcp_connect", result, leaked=connected)
        result = await verifier.verify(honest_job(device, "profile"))
        checks.honest("swish after the attacks", result)
    server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    checks = Checks()
    asyncio.run(run(args.device, checks))
    if args.json:
        args.json.write_text(json.dumps(checks.rows, indent=2))
    failed = [row["check"] for row in checks.rows if not row["ok"]]
    print(
        f"sandbox check: {len(checks.rows) - len(failed)}/{len(checks.rows)} ok"
        + (f"; failed: {', '.join(map(str, failed))}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
