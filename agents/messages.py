"""Requests, replies and agent errors as plain JSON-able dicts, to cross a process boundary."""

from __future__ import annotations

import dataclasses
from typing import Any

from agents.types import (
    AgentError,
    AgentRequest,
    Attempt,
    Candidate,
    Design,
    Inspiration,
    NoCode,
    SpeedOfLight,
    Target,
    Unsupported,
)


def request_to_dict(request: AgentRequest) -> dict[str, Any]:
    return dataclasses.asdict(request)


def request_from_dict(data: dict[str, Any]) -> AgentRequest:
    fields = dict(data)
    fields["target"] = Target(**fields["target"])
    fields["history"] = tuple(Attempt(**a) for a in fields.get("history", ()))
    fields["inspirations"] = tuple(Inspiration(**i) for i in fields.get("inspirations", ()))
    if fields.get("speed_of_light") is not None:
        fields["speed_of_light"] = SpeedOfLight(**fields["speed_of_light"])
    return AgentRequest(**fields)


def reply_to_dict(reply: Design | Candidate) -> dict[str, Any]:
    return dataclasses.asdict(reply)


def design_from_dict(data: dict[str, Any]) -> Design:
    return Design(**data)


def candidate_from_dict(data: dict[str, Any]) -> Candidate:
    return Candidate(**data)


def error_to_dict(error: AgentError) -> dict[str, Any]:
    return {"reason": error.reason, "message": str(error), "ops": list(getattr(error, "ops", []))}


def error_from_dict(data: dict[str, Any]) -> AgentError:
    """The same kind of error as was raised: `Unsupported` and `NoCode` keep their type."""
    reason, message = str(data["reason"]), str(data["message"])
    if reason == Unsupported.reason:
        return Unsupported(list(data.get("ops") or []), message)
    if reason == NoCode.reason:
        return NoCode(message)
    error = AgentError(message)
    error.reason = reason
    return error
