"""One chat completion over an OpenAI-compatible endpoint: streaming, retries, usage, cost.

The `openai` client's own retries are off (`max_retries=0`): this module retries rate limits
(honouring Retry-After), server errors, timeouts and dropped connections itself, so that
every retry is reported to the sink. When the retries are spent on failures of the
endpoint (no connection, server errors, timeouts) the call raises `LLMUnavailable`: an
outage, which the machine turns into a resumable interruption rather than a failed task.
Three timeouts bound an attempt (connect, first/next byte, total), and while nothing
arrives the sink hears `waiting` every `waiting_report_s`. The API key is read from the
environment when a call starts, handed to a client that lives for that call only, and
scrubbed from every reason reported.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from agents.llm.request import refusal_advice
from agents.llm.settings import NO_KEY_PLACEHOLDER, RoleSettings
from agents.llm.sink import LLMSink
from agents.types import AgentError

Message = dict[str, str]

PARTIAL_INTERVAL_S = 0.5
MAX_RETRY_AFTER_S = 600.0
DEFAULT_ENDPOINT = "https://api.openai.com/v1"  # the openai client's own default
_RETRY_STATUS = frozenset({408, 409, 429})
# Transport errors that older `openai` releases let escape from a stream unwrapped.
_TRANSPORT_MODULES = frozenset({"httpx", "httpx2", "httpcore", "h11", "h2", "anyio"})


class LLMCallFailed(AgentError):
    """A call gave up: retries spent, or an error that retrying cannot fix."""

    reason = "llm_failed"

    def __init__(self, message: str, call_id: str | None = None) -> None:
        self.call_id = call_id
        super().__init__(message)


class LLMUnavailable(LLMCallFailed):
    """The endpoint did not answer through every retry: an outage, resumable later."""

    reason = "llm_unavailable"

    def __init__(self, endpoint: str, attempts: int, elapsed_s: float, last_error: str) -> None:
        self.endpoint = endpoint
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(
            f"the LLM endpoint {endpoint} did not answer: {attempts} attempts over "
            f"{elapsed_s:.1f} s, the last: {last_error}"
        )


class _Activity:
    """When bytes last arrived from the endpoint."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    def idle_s(self) -> float:
        return time.monotonic() - self.last


@dataclass(frozen=True)
class Reply:
    call_id: str
    text: str
    usage: dict[str, Any]
    latency_s: float
    cost_usd: float


class ChatBackend(Protocol):
    """What providers need from a model: one reply per list of messages."""

    async def complete(self, role: str, messages: list[Message]) -> Reply: ...


class _Retry(Exception):
    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        self.reason = reason
        self.retry_after_s = retry_after_s
        super().__init__(reason)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a server asks us to wait: `retry-after-ms`, or `retry-after` (seconds or a date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_seconds(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with jitter: half the nominal wait plus a random half."""
    nominal = min(max_s, base_s * 2 ** (attempt - 1))
    return nominal * (0.5 + random.random() / 2)


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class OpenAIChat:
    """A `ChatBackend` over any OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        settings: RoleSettings,
        sink: LLMSink,
        *,
        environ: Mapping[str, str] | None = None,
        partial_interval_s: float = PARTIAL_INTERVAL_S,
    ) -> None:
        if not settings.model:
            raise ValueError("an OpenAI-compatible role needs a model: set `model:` or --llm-model")
        self.settings = settings
        self.sink = sink
        self._environ = environ
        self._partial_interval_s = partial_interval_s

    async def complete(self, role: str, messages: list[Message]) -> Reply:
        settings = self.settings
        key = settings.api_key(role, self._environ)
        model = str(settings.model)
        call_id = await self.sink.requested(role, model, messages)
        started = time.monotonic()
        timeout = openai.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        client = openai.AsyncOpenAI(
            api_key=key, base_url=settings.base_url, timeout=timeout, max_retries=0
        )
        try:
            text, usage = await self._with_retries(client, call_id, messages, key)
        finally:
            await client.close()
        latency = time.monotonic() - started
        cost = settings.cost_usd(usage["prompt_tokens"], usage["completion_tokens"])
        await self.sink.responded(call_id, text, usage, latency, cost)
        return Reply(call_id, text, usage, latency, cost)

    async def _with_retries(
        self, client: openai.AsyncOpenAI, call_id: str, messages: list[Message], key: str
    ) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._watched(client, call_id, messages)
            except _Retry as retry:
                reason = _scrub(retry.reason, key)
                if attempt > settings.max_retries:
                    elapsed = time.monotonic() - started
                    outage = LLMUnavailable(self.endpoint, attempt, elapsed, reason)
                    outage.call_id = call_id
                    await self.sink.failed(call_id, str(outage))
                    raise outage from None
                wait = retry.retry_after_s
                if wait is None:
                    wait = backoff_seconds(attempt, settings.backoff_base_s, settings.backoff_max_s)
                wait = min(wait, MAX_RETRY_AFTER_S)
                await self.sink.retried(call_id, attempt, reason, wait)
                await asyncio.sleep(wait)
            except openai.APIStatusError as err:
                message = _scrub(self._fatal_message(err), key)
                await self.sink.failed(call_id, message)
                raise LLMCallFailed(message, call_id) from None

    @property
    def endpoint(self) -> str:
        return self.settings.base_url or DEFAULT_ENDPOINT

    async def _watched(
        self, client: openai.AsyncOpenAI, call_id: str, messages: list[Message]
    ) -> tuple[str, dict[str, Any]]:
        """One attempt within `total_timeout_s`, reporting every `waiting_report_s` of silence."""
        activity = _Activity()
        reporter = asyncio.create_task(self._report_waiting(call_id, activity))
        total = self.settings.total_timeout_s
        try:
            return await asyncio.wait_for(self._attempt(client, call_id, messages, activity), total)
        except asyncio.TimeoutError:
            raise _Retry(f"no complete reply within {total:g} s (total_timeout_s)") from None
        finally:
            reporter.cancel()

    async def _report_waiting(self, call_id: str, activity: _Activity) -> None:
        interval = self.settings.waiting_report_s
        while True:
            await asyncio.sleep(interval)
            idle = activity.idle_s()
            if idle >= interval:
                await self.sink.waiting(call_id, self.endpoint, round(idle, 1))

    async def _attempt(
        self,
        client: openai.AsyncOpenAI,
        call_id: str,
        messages: list[Message],
        activity: _Activity,
    ) -> tuple[str, dict[str, Any]]:
        try:
            if self.settings.request.stream:
                return await self._streamed(client, call_id, messages, activity)
            return await self._whole(client, messages)
        except openai.APITimeoutError:
            raise _Retry(f"no reply within {self.settings.timeout_s:g} s (timeout_s)") from None
        except openai.APIConnectionError as err:
            raise _Retry(f"connection failed or dropped ({_root_cause(err)})") from None
        except openai.APIStatusError as err:
            if err.status_code in _RETRY_STATUS or err.status_code >= 500:
                after = retry_after_seconds(err.response.headers)
                label = "rate limited" if err.status_code == 429 else "server error"
                raise _Retry(f"HTTP {err.status_code} ({label})", after) from None
            raise
        except openai.APIError as err:
            raise _Retry(f"error from the server mid-reply: {err.message[:200]}") from None
        except Exception as err:
            if type(err).__module__.split(".")[0] in _TRANSPORT_MODULES:
                raise _Retry(f"connection dropped ({type(err).__name__})") from None
            raise

    async def _streamed(
        self,
        client: openai.AsyncOpenAI,
        call_id: str,
        messages: list[Message],
        activity: _Activity,
    ) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        stream = await client.chat.completions.create(
            model=str(settings.model),
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            extra_body=settings.request.body(),
        )
        parts: list[str] = []
        finished = False
        usage: Any = None
        last_partial = time.monotonic()
        sent_len = 0
        try:
            async for chunk in stream:
                activity.touch()
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        parts.append(choice.delta.content)
                    if choice.finish_reason:
                        finished = True
                now = time.monotonic()
                if now - last_partial >= self._partial_interval_s and len(parts) != sent_len:
                    sent_len = len(parts)
                    last_partial = now
                    await self.sink.partial(call_id, "".join(parts))
        except openai.APITimeoutError:
            raise _Retry(
                f"the stream went silent for {settings.timeout_s:g} s mid-reply (timeout_s)"
            ) from None
        except openai.APIConnectionError:
            raise _Retry("the connection dropped mid-reply") from None
        if not finished:
            raise _Retry("the stream ended before the reply was complete (connection dropped)")
        text = "".join(parts)
        return text, _usage(usage, messages, text)

    async def _whole(
        self, client: openai.AsyncOpenAI, messages: list[Message]
    ) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        response = await client.chat.completions.create(
            model=str(settings.model),
            messages=messages,  # type: ignore[arg-type]
            extra_body=settings.request.body(),
        )
        text = (response.choices[0].message.content or "") if response.choices else ""
        return text, _usage(response.usage, messages, text)

    def _fatal_message(self, err: openai.APIStatusError) -> str:
        status = err.status_code
        where = self.settings.base_url or "the default OpenAI endpoint"
        if status in (401, 403):
            env = self.settings.api_key_env
            source = f"${env}" if env else f"the placeholder key {NO_KEY_PLACEHOLDER!r}"
            return f"{where} refused the key from {source} (HTTP {status}); check the key"
        if status == 404:
            return (
                f"{where} answered HTTP 404 for model {self.settings.model!r}; "
                "check --llm-base-url and --llm-model"
            )
        message = f"{where} answered HTTP {status}: {' '.join(str(err.message).split())[:300]}"
        advice = refusal_advice(str(err.message), self.settings.request)
        return f"{message}; {advice}" if status == 400 and advice else message


def _usage(usage: Any, messages: list[Message], text: str) -> dict[str, Any]:
    """Token counts from the server, or an estimate (marked) when it sent none."""
    if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
        prompt = int(usage.prompt_tokens)
        completion = int(usage.completion_tokens or 0)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    prompt = sum(estimate_tokens(m.get("content", "")) for m in messages)
    completion = estimate_tokens(text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "estimated": True,
    }


def _root_cause(err: BaseException) -> str:
    """The innermost error, e.g. "ConnectionRefusedError: [Errno 111] Connect call failed"."""
    while (inner := err.__cause__ or err.__context__) is not None:
        err = inner
    return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"


def _scrub(text: str, key: str) -> str:
    if key and key != NO_KEY_PLACEHOLDER:
        text = text.replace(key, "***")
    return text
