"""The aikg configuration: `configs/default.yaml`, overlaid by a user file, validated.

Owned by machine/ (which reads it); `aikg.config` re-exports it for users.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.llm.settings import LLMSettings

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

# package data, read through importlib (a wheel install finds it too)
DEFAULT_CONFIG: Traversable = files("configs").joinpath("default.yaml")


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message names key and expected form."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VerifierConfig(_Strict):
    mode: Literal["warm", "oneshot"] = "warm"
    trials: int = Field(3, ge=1, le=100)
    timeout_s: float = Field(300.0, gt=0)
    shapes: Literal["auto", "default", "small"] = "auto"  # auto: small on cpu, else default
    tolerances: dict[str, tuple[float, float]] = Field(default_factory=dict)
    sandbox: Literal["auto", "landlock", "off"] = "auto"  # docs/verifier.md, "Sandbox"
    memory_headroom_gib: float = Field(4.0, gt=0)  # cpu workers: address space beyond torch
    # jobs of one device at once (timing runs alone); auto: 1 on a GPU, 2 on the CPU
    workers_per_device: Annotated[int, Field(ge=1)] | Literal["auto"] = "auto"

    @field_validator("sandbox", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML reads a bare `off` as false


class ConductorConfig(_Strict):
    llm_analysis: bool = False
    max_same_failures: int = Field(2, ge=1)
    profile_patience: int = Field(3, ge=1)


class DevicePoolConfig(_Strict):
    kind: Literal["local", "ray"] = "local"  # ray: verification jobs run on a Ray cluster
    address: str | None = None  # ray: the cluster's address, e.g. 10.0.0.1:6379 or auto
    capacity: int = Field(1, ge=1)  # verifications at once per device
    lease_timeout_s: float | None = Field(None, gt=0)  # None: wait for a device for ever
    quarantine_after: int = Field(3, ge=1)  # crashes/timeouts in a row that bench a device
    resources: dict[str, float] = Field(default_factory=dict)  # ray: custom resources per job


class SearchConfig(_Strict):
    """How a task walks its candidates (docs/search.md)."""

    strategy: Literal["linear", "beam", "evolve"] = "linear"
    width: int = Field(3, ge=1, le=64)  # beam: nodes kept and refined; evolve: parents a round
    target_sol: float | None = Field(None, gt=0, le=1)  # stop at this share of speed-of-light


class StoreConfig(_Strict):
    busy_timeout_s: float = Field(30.0, gt=0)  # a write lock held longer stops the task


class Config(_Strict):
    db: str | None = None
    store: StoreConfig = StoreConfig()
    export_dir: str = ".aikg/kernels"
    devices: list[str] = Field(default_factory=list)
    prompt_dir: str | None = None  # templates here override configs/prompts/*.j2
    replay_from: str | None = None  # --llm replay: the task whose recorded replies to serve
    verifier: VerifierConfig = VerifierConfig()
    agents: LLMSettings = LLMSettings()
    conductor: ConductorConfig = ConductorConfig()
    search: SearchConfig = SearchConfig()
    devicepool: DevicePoolConfig = DevicePoolConfig()
    # prose task descriptions (docs/prose-tasks.md): values the reference is written with
    params: dict[str, float] = Field(default_factory=dict)
    shapes: dict[str, list[int]] = Field(default_factory=dict)
    dtypes: dict[str, str] = Field(default_factory=dict)

    @field_validator("shapes", mode="before")
    @classmethod
    def _shape_text(cls, value: object) -> object:
        """`x: 4096x4096` reads as [4096, 4096]; a list stays a list."""
        if isinstance(value, dict):
            return {k: parse_shape(v) if isinstance(v, str) else v for k, v in value.items()}
        return value

    def digest(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @classmethod
    def from_recorded(cls, data: dict[str, Any]) -> Config:
        """A config stored in a `task.created` event, read by this version of aikg.

        Keys recorded as null take today's defaults, so logs from older versions load.
        """
        defaults = _read_yaml(DEFAULT_CONFIG)
        return _validate(_merge(defaults, _without_nulls(data)), "recorded in the task")

    def updated(self, changes: dict[str, Any]) -> Config:
        """A copy with nested `changes` merged in and validated again."""
        return _validate(_merge(self.model_dump(mode="json"), changes), "overrides")


def parse_shape(text: str) -> list[int]:
    """'4096x4096' -> [4096, 4096]; a ValueError naming the form otherwise."""
    try:
        dims = [int(part) for part in text.lower().replace("×", "x").split("x")]
    except ValueError:
        dims = []
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"shape {text!r}: write positive sizes joined by x, e.g. 4096x4096")
    return dims


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _without_nulls(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None
    }


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path | Traversable) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config {path}{where} is not valid YAML: fix the syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a YAML mapping of keys to values")
    return data


def _validate(data: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            raise ConfigError(
                f"config {source}: unknown key '{key}'; see configs/default.yaml"
            ) from None
        raise ConfigError(
            f"config {source}: '{key}': {err['msg']} (got {err.get('input')!r})"
        ) from None


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then the user file at `path`, then `overrides`; validated at each layer."""
    data = _read_yaml(DEFAULT_CONFIG)
    source = str(DEFAULT_CONFIG)
    if path is not None:
        data = _merge(data, _read_yaml(Path(path)))
        source = str(path)
    config = _validate(data, source)
    return config.updated(overrides) if overrides else config
