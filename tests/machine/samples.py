"""One sample of every event type, used by the round-trip and fold tests."""

from __future__ import annotations

from machine import events as ev
from verifier.result import TimeBreakdown

SAMPLES: dict[str, ev.Event] = {
    "task.created": ev.TaskCreated(
        task_id="swish-1",
        op_name="swish",
        task_desc="class Model: ...",
        backend="cpu",
        arch="cpu",
        impl_type="triton",
        framework="torch",
        task_type="precision_only",
        limit_steps=3,
        config={"verifier": {"trials": 3}},
        config_digest="abc",
        graph="stateDiagram-v2",
        aikg_version="0.1.0",
        source_path="/x/swish.py",
        forked_from={"task_id": "swish-0", "seq": 4},
    ),
    "step.started": ev.StepStarted(step=1, action="design", reason="first step"),
    "design.produced": ev.DesignProduced(step=1, text="one pass", agent="builtin", notes={"k": 1}),
    "code.produced": ev.CodeProduced(
        step=1,
        code="class ModelNew: ...",
        agent="builtin",
        notes={"launch_config": {"BLOCK": 1024, "num_warps": 4}},
    ),
    "code.missing": ev.CodeMissing(
        step=2, agent="openai", reason="no_code", message="no python block", ops=["aten.foo"]
    ),
    "device.leased": ev.DeviceLeased(step=1, device="cuda:0"),
    "device.released": ev.DeviceReleased(step=1, device="cuda:0", held_s=1.25),
    "verify.finished": ev.VerifyFinished(
        step=1,
        device="cuda:0",
        result={
            "passed": True,
            "stage": None,
            "message": "ok",
            "max_abs_err": 1.5e-7,
            "timings": {"candidate": {"median_ms": 0.125}},
        },
        breakdown=TimeBreakdown(
            inputs_s=0.04,
            reference_s=0.18,
            compile_s=0.06,
            trials_s=0.69,
            timing_s=3.06,
            other_s=0.1,
            wall_s=4.13,
            worker_start_s=3.7,
            gpu_busy_fraction=0.74,
            reference_cache_hits=2,
        ),
    ),
    "verify.repeated": ev.VerifyRepeated(step=3, repeat_of=1),
    "node.created": ev.NodeCreated(
        step=4,
        node_id="n4",
        parents=["n2"],
        agent="builtin",
        idea="BLOCK_SIZE=2048, num_warps=8",
        alternative={"BLOCK_SIZE": 2048, "num_warps": 8},
        round=2,
    ),
    "conductor.decided": ev.ConductorDecided(step=1, action="finish", reason="verified"),
    "task.finished": ev.TaskFinished(
        success=True, reason="verified", message="step 1 verified", steps=1, best_step=1
    ),
    "reference.proposed": ev.ReferenceProposed(
        written_by="formula",
        prose="Swish: x * sigmoid(beta * x)",
        source="class Model: ...",
        inputs={"x": "4096x4096 float32 (small 8x64)"},
        parameters={"beta": 1.0},
        defaulted=["beta"],
    ),
    "task.interrupted": ev.TaskInterrupted(
        signal="llm_outage", state="coding", step=2, message="the LLM endpoint did not answer"
    ),
    "llm.waiting": ev.LLMWaiting(call_id="c1", endpoint="http://127.0.0.1:9/v1", waited_s=10.5),
    "task.resumed": ev.TaskResumed(state="verifying", step=1, redo="verifying"),
    "llm.requested": ev.LLMRequested(
        call_id="c1",
        step=1,
        role="coder",
        model="gpt",
        messages=[{"role": "user", "content": "hi"}],
    ),
    "llm.partial": ev.LLMPartial(call_id="c1", text="```py"),
    "llm.retried": ev.LLMRetried(call_id="c1", attempt=1, reason="429", wait_s=0.5),
    "llm.responded": ev.LLMResponded(
        call_id="c1",
        text="```python\n```",
        usage={"total_tokens": 12},
        latency_s=0.3,
        cost_usd=0.0012,
    ),
    "llm.failed": ev.LLMFailed(call_id="c1", reason="timeout"),
    "pool.leased": ev.PoolLeased(device="cuda:0", holder="swish-1", queue_length=2),
    "pool.released": ev.PoolReleased(device="cuda:0", holder="swish-1", held_s=0.5, queue_length=1),
    "pool.quarantined": ev.PoolQuarantined(
        device="cuda:1", reason="3 crashes in a row", failures=3
    ),
}
