"""A real OpenAI-compatible chat-completions server on 127.0.0.1 that follows a script.

Each request to `POST /v1/chat/completions` takes the next `Step` of the script: a reply
(streamed as SSE or a JSON body, as the request asks), an HTTP error (with Retry-After), a
stream cut in the middle, a stream that stalls, or a reply delayed past the client's
timeout. Every request is recorded (headers and JSON body) for assertions.

    with ScriptedOpenAIServer([Step.reply("hi")]) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="k")
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["RecordedRequest", "ScriptedOpenAIServer", "Step", "openai_server"]


@dataclass(frozen=True)
class Step:
    """What the server does for one request."""

    kind: str  # reply | error | cut | stall | delay
    text: str = ""
    status: int = 200
    retry_after: str | None = None
    delay_s: float = 0.0
    chunk_chars: int = 24
    chunk_delay_s: float = 0.0
    usage: tuple[int, int] | None = (100, 50)  # (prompt, completion) tokens; None: send none

    @classmethod
    def reply(cls, text: str, **options: Any) -> Step:
        return cls("reply", text, **options)

    @classmethod
    def error(cls, status: int, retry_after: str | None = None, text: str = "") -> Step:
        return cls("error", text or f"scripted error {status}", status, retry_after)

    @classmethod
    def cut(cls, text: str) -> Step:
        """Stream part of `text`, then drop the connection without finishing the body."""
        return cls("cut", text)

    @classmethod
    def stall(cls, text: str, seconds: float) -> Step:
        """Stream part of `text`, then go silent for `seconds`, then drop the connection."""
        return cls("stall", text, delay_s=seconds)

    @classmethod
    def delay(cls, seconds: float, text: str = "late") -> Step:
        """Say nothing for `seconds` (past the client's timeout), then reply."""
        return cls("delay", text, delay_s=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]
    received_at: float  # time.monotonic()


Responder = Callable[[dict[str, Any]], Step]


@dataclass
class _Shared:
    script: list[Step]
    responder: Responder | None = None  # answers by request body once the script is spent
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedOpenAIServer:
    """Starts on a free port in a background thread; `stop()` (or `with`) shuts it down."""

    def __init__(
        self, script: Iterable[Step] = (), responder: Responder | None = None, port: int = 0
    ) -> None:
        """`port`: 0 for any free port, or a given one (an endpoint coming back after an outage)."""
        self._shared = _Shared(list(script), responder)
        handler = type("Handler", (_Handler,), {"shared": self._shared})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._shared.lock:
            return list(self._shared.requests)

    @property
    def remaining(self) -> int:
        with self._shared.lock:
            return len(self._shared.script)

    def push(self, *steps: Step) -> None:
        with self._shared.lock:
            self._shared.script.extend(steps)

    def start(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    shared: _Shared

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw or b"{}")
        with self.shared.lock:
            self.shared.requests.append(
                RecordedRequest(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.monotonic(),
                )
            )
            step = self.shared.script.pop(0) if self.shared.script else None
        if step is None and self.shared.responder is not None:
            step = self.shared.responder(body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        if step is None:
            self._json(500, {"error": {"message": "the test server's script is exhausted"}})
            return
        try:
            self._serve(step, body)
        except OSError:
            self.close_connection = True  # the client hung up (it timed out): nothing to do

    def _serve(self, step: Step, body: dict[str, Any]) -> None:
        if step.kind == "error":
            headers = {"Retry-After": step.retry_after} if step.retry_after is not None else {}
            error = {"message": step.text, "type": "scripted", "code": str(step.status)}
            self._json(step.status, {"error": error}, headers)
            return
        if step.kind == "delay":
            time.sleep(step.delay_s)
        if body.get("stream"):
            self._stream(step, body)
        else:
            self._json(200, _completion(step, body))

    def _stream(self, step: Step, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = [
            step.text[i : i + step.chunk_chars] for i in range(0, len(step.text), step.chunk_chars)
        ]
        broken = step.kind in ("cut", "stall")
        if broken:
            pieces = pieces[: max(1, len(pieces) // 2)]
        model = body.get("model", "scripted")
        for index, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if index == 0 else {"content": piece}
            self._event(_chunk(model, [{"index": 0, "delta": delta, "finish_reason": None}]))
            if step.chunk_delay_s:
                time.sleep(step.chunk_delay_s)
        if broken:
            if step.kind == "stall":
                time.sleep(step.delay_s)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self._event(_chunk(model, [{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        wants_usage = (body.get("stream_options") or {}).get("include_usage")
        if wants_usage and step.usage is not None:
            self._event({**_chunk(model, []), "usage": _usage(step)})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(data)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


def _usage(step: Step) -> dict[str, int]:
    prompt, completion = step.usage or (0, 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunk(model: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }


def _completion(step: Step, body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": step.text},
                "finish_reason": "stop",
            }
        ],
    }
    if step.usage is not None:
        data["usage"] = _usage(step)
    return data


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A started scripted server; `openai_server.push(Step.reply(...))` sets its replies."""
    with ScriptedOpenAIServer() as server:
        yield server
