"""A tiny OpenAI-compatible server on 127.0.0.1 that records every request it gets.

It lists one model, answers ``/v1/completions`` and ``/v1/chat/completions`` with a
fixed server-sent event stream (with a ``usage`` chunk), can insist on an API key and
can hold every POST before the first byte until ``release`` is set, and can stream
slowly (``delay`` seconds between pieces), setting ``streaming`` at the first piece and
``hung_up`` when the client closed the stream.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


class StubServer:
    def __init__(self, *, api_key: str | None = None, hold: bool = False,
                 pieces: tuple[str, ...] = ("Hello", ",", " world", "."),
                 n_ctx: int = 1234, delay: float = 0.0, port: int = 0) -> None:
        self.api_key = api_key
        self.hold = hold
        self.pieces = pieces
        self.n_ctx = n_ctx
        self.delay = delay
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self.held = threading.Event()
        self.streaming = threading.Event()
        self.hung_up = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> dict[str, Any] | None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                stub.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                return body

            def _authorized(self) -> bool:
                if stub.api_key is None or (
                        self.headers.get("Authorization") == f"Bearer {stub.api_key}"):
                    return True
                self._json(401, {"error": {"message": "Invalid API key"}})
                return False

            def _json(self, status: int, obj: object) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._record()
                if not self._authorized():
                    return
                if self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [
                        {"id": "stub-model", "object": "model", "max_model_len": stub.n_ctx}]})
                else:
                    self._json(404, {"detail": "Not Found"})

            def do_POST(self) -> None:
                body = self._record() or {}
                if not self._authorized():
                    return
                if self.path not in ("/v1/completions", "/v1/chat/completions"):
                    self._json(404, {"detail": "Not Found"})
                    return
                if stub.hold:
                    stub.held.set()
                    stub.release.wait(30)
                # The client may have hung up (cancelled or preempted).
                try:
                    self._stream(body)
                except (BrokenPipeError, ConnectionResetError):
                    stub.hung_up.set()

            def _stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chat = "messages" in body
                for piece in stub.pieces:
                    if stub.delay:
                        time.sleep(stub.delay)  # a slow server, not a wait for an event
                    choice: dict[str, Any] = {"index": 0, "finish_reason": None}
                    if chat:
                        choice["delta"] = {"content": piece}
                    else:
                        choice["text"] = piece
                    self._event({"choices": [choice]})
                self._event({"choices": [{"index": 0, "text": "", "delta": {},
                                          "finish_reason": "stop"}]})
                self._event({"choices": [], "usage": {
                    "prompt_tokens": 10, "completion_tokens": len(stub.pieces),
                    "total_tokens": 10 + len(stub.pieces),
                    "prompt_tokens_details": {"cached_tokens": 4}}})
                self.wfile.write(b": keep-alive comment\n\ndata: [DONE]\n\n")

            def _event(self, obj: object) -> None:
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                self.wfile.flush()
                stub.streaming.set()

        return Handler
