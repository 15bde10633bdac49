"""Pieces the commands that run tasks share: the config from flags, the device pool."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from agents.llm.request import REQUEST_PRESETS
from agents.llm.settings import PRESETS, apply_cli_overrides
from aikg.commands import UsageError
from aikg.commands.flags import budget_overrides
from aikg.commands.sandbox_notice import sandbox_for
from aikg.commands.search_flags import search_overrides
from aikg.config import Config, load_config
from devicepool import DevicePool, detect_devices


def config_for(args: argparse.Namespace, base: Config | None = None) -> Config:
    """The config file (or `base`), then the command line's overrides."""
    overrides: dict[str, Any] = {}
    if getattr(args, "db", None):
        overrides["db"] = args.db
    if getattr(args, "devices", None):
        overrides["devices"] = [d for d in args.devices.split(",") if d]
    if getattr(args, "replay_from", None):
        overrides["replay_from"] = args.replay_from
    if getattr(args, "busy_timeout", None):
        overrides["store"] = {"busy_timeout_s": args.busy_timeout}
    if search_overrides(args):
        overrides["search"] = search_overrides(args)
    if budget_overrides(args):
        overrides["agents"] = {"budget": budget_overrides(args)}
    if base is not None and not getattr(args, "config", None):
        config = base.updated(overrides) if overrides else base
    else:
        config = load_config(getattr(args, "config", None), overrides or None)
    config = with_llm_flags(config, args)
    gpu = getattr(args, "backend", None) == "cuda"
    sandbox_for(config, require=getattr(args, "require_sandbox", False), gpu=gpu)
    return config


def with_llm_flags(config: Config, args: argparse.Namespace) -> Config:
    """`--llm NAME --llm-base-url URL --llm-model NAME --llm-api-key-env VAR --llm-request
    PRESET` for every role."""
    flags = {
        "llm": getattr(args, "llm", None),
        "base_url": getattr(args, "llm_base_url", None),
        "model": getattr(args, "llm_model", None),
        "api_key_env": getattr(args, "llm_api_key_env", None),
        "request": getattr(args, "llm_request", None),
    }
    if not any(flags.values()):
        return config
    if flags["llm"] is not None and flags["llm"] not in PRESETS:
        raise UsageError(f"--llm {flags['llm']}: choose one of {', '.join(PRESETS)}")
    if flags["request"] is not None and flags["request"] not in REQUEST_PRESETS:
        raise UsageError(
            f"--llm-request {flags['request']}: choose one of {', '.join(REQUEST_PRESETS)}"
        )
    try:
        agents = apply_cli_overrides(config.agents, **flags)
    except ValidationError as exc:
        raise UsageError(f"--llm flags: {exc.errors()[0]['msg']}") from None
    if flags["llm"] == "replay" and not config.replay_from:
        raise UsageError("--llm replay needs --from TASK_ID (the task whose replies to serve)")
    return config.updated({"agents": agents.model_dump(mode="json")})


def pool_for(config: Config, backend: str) -> DevicePool | None:
    """The configured devices, else the Ray cluster's slots, else this machine's devices
    of `backend` (None when there are none: the Task then says what is missing)."""
    options = config.devicepool
    if config.devices:
        devices = list(config.devices)
    elif options.kind == "ray":
        from machine.ray_verification import cluster_slots

        devices = cluster_slots(options.address, backend, options.resources)
    else:
        devices = detect_devices(backend) if backend in ("cpu", "cuda", "ascend") else []
    if not devices:
        return None
    return DevicePool(
        devices,
        capacity=options.capacity,
        lease_timeout_s=options.lease_timeout_s,
        quarantine_after=options.quarantine_after,
    )
