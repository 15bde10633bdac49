"""Builds the provider for each role from the config's plain settings."""

from __future__ import annotations

from typing import Any

from agents.types import Provider


class AgentConfigError(ValueError):
    """A role's provider cannot be built; the message names the fix."""


def make_provider(role: str, settings: dict[str, Any], **context: Any) -> Provider:
    """`settings` is the role's config as a dict; `context` carries the sink and recordings."""
    provider = settings.get("provider", "builtin")
    if provider == "builtin":
        from agents.builtin import BuiltinProvider

        return BuiltinProvider()
    raise AgentConfigError(f"{role}: provider {provider!r} is not available in this build")
