"""The configuration model, re-exported for users: it lives in `machine/config.py`, below
the command line, because the machine reads it."""

from __future__ import annotations

from machine.config import (
    DEFAULT_CONFIG,
    ConductorConfig,
    Config,
    ConfigError,
    DevicePoolConfig,
    StoreConfig,
    VerifierConfig,
    load_config,
    parse_shape,
)

__all__ = [
    "DEFAULT_CONFIG",
    "ConductorConfig",
    "Config",
    "ConfigError",
    "DevicePoolConfig",
    "StoreConfig",
    "VerifierConfig",
    "load_config",
    "parse_shape",
]
