"""``OpenAICompatibleEngine``: the Engine protocol on an existing OpenAI-compatible server.

For people whose models outgrow their desktop: llama.cpp's ``llama-server``,
llama-cpp-python's server, vLLM or Ollama, on this machine, the LAN or a GPU box.
Reverie runs no server of its own; it speaks plain HTTP (the standard library only)
and streams answers with server-sent events.

The queueing promises are those of ``LlamaEngine`` (both run on
:class:`assistant.llm.worker.PriorityWorker`): one worker thread serves a priority
queue, a FOREGROUND request preempts running BACKGROUND work (which reports
``aborted``), and ``abort()`` or a request's ``should_stop`` end the running request
within a few tens of milliseconds, even while the server has not sent a byte yet. The
worker never blocks on the network itself: each response is read on a helper thread that
hands events over through a queue, and stopping shuts that socket down.

Accounting: token counts come from the ``usage`` object when the server sends one
(``stream_options.include_usage`` is requested; llama.cpp's server and vLLM send it,
llama-cpp-python's does not). Otherwise ``completion_tokens`` is the number of
streamed chunks that carried text (one per token on llama.cpp-based servers) and
``prompt_tokens`` comes from the server's tokenize endpoint (``/extras/tokenize/count``
on llama-cpp-python, ``/tokenize`` on llama.cpp and vLLM), or from an estimate of four
characters per token when there is none; ``extra["usage_from_server"]`` says which.
``cached_tokens`` is what the server reports as cached, else 0.

The API key is the caller's to pass; ``store_api_key`` / ``load_api_key`` keep it in the
OS keyring when the optional ``keyring`` package has a usable backend, and otherwise
fall back to the ``REVERIE_REMOTE_API_KEY`` environment variable.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import importlib
import json
import logging
import os
import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from assistant.llm.engine import (
    ChatMessage,
    EngineError,
    EngineUnavailable,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    ModelInfo,
    Priority,
    PromptStyle,
    TokenCallback,
)
from assistant.llm.worker import Job, PriorityWorker, QueuedEngine, StopStream

log = logging.getLogger("assistant.llm")

KEYRING_SERVICE = "Reverie"
API_KEY_ENV = "REVERIE_REMOTE_API_KEY"
#: Rough size of a token in characters, for servers that cannot tokenize.
CHARS_PER_TOKEN = 4
#: How often the worker checks for cancellation while it waits for the server.
POLL_SECONDS = 0.02
#: Tokens a chat template adds around each message, for the estimate only.
MESSAGE_OVERHEAD_TOKENS = 4
#: After a failed connection, how long ``wait_ready`` waits before asking the server again.
RETRY_SECONDS = 5.0


# -- API key helpers --------------------------------------------------------------------
def _usable_keyring() -> Any | None:
    """The ``keyring`` module when it is installed and has a real backend, else None."""
    try:
        keyring = importlib.import_module("keyring")
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        if float(getattr(backend, "priority", 1)) <= 0:  # the "fail" and "null" backends
            return None
    except Exception as exc:
        log.warning("the OS keyring is not usable (%s)", exc)
        return None
    return keyring


def store_api_key(url: str, key: str) -> bool:
    """Keep ``key`` for the server at ``url`` in the OS keyring (an empty key forgets it).

    Returns False when there is no usable keyring: the caller should then tell the
    person to set the REVERIE_REMOTE_API_KEY environment variable instead.
    """
    keyring = _usable_keyring()
    account = normalize_base_url(url)
    if keyring is None:
        log.warning("no usable OS keyring (install the 'keyring' package); the API key for "
                    "%s was not stored, set %s instead", account, API_KEY_ENV)
        return False
    try:
        if key:
            keyring.set_password(KEYRING_SERVICE, account, key)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, account)
            except Exception as exc:  # PasswordDeleteError: nothing was stored
                log.debug("no API key to forget for %s (%s)", account, exc)
    except Exception as exc:
        log.warning("the OS keyring refused the API key for %s (%s); set %s instead",
                    account, exc, API_KEY_ENV)
        return False
    return True


def load_api_key(url: str) -> str | None:
    """The API key for ``url``: from the OS keyring, else from REVERIE_REMOTE_API_KEY."""
    account = normalize_base_url(url)
    keyring = _usable_keyring()
    if keyring is not None:
        try:
            key = keyring.get_password(KEYRING_SERVICE, account)
        except Exception as exc:
            log.warning("could not read the API key for %s from the OS keyring (%s)",
                        account, exc)
            key = None
        if key:
            return str(key)
    else:
        log.info("no usable OS keyring; reading the API key for %s from %s",
                 account, API_KEY_ENV)
    return os.environ.get(API_KEY_ENV) or None


# -- small pure helpers -----------------------------------------------------------------
def normalize_base_url(url: str) -> str:
    """``url`` without a trailing slash, with ``/v1`` added when it has no path at all.

    Raises ValueError, in one sentence, for anything that is not an http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// address of an inference "
                         "server; use one like http://127.0.0.1:8080/v1.")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def estimate_tokens(text: str) -> int:
    """A character-based token count, for servers that cannot tokenize."""
    return 0 if not text else max(1, round(len(text) / CHARS_PER_TOKEN))


def iter_sse(lines: Iterable[bytes]) -> Iterator[str]:
    """The ``data`` payloads of a server-sent event stream, one string per event."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):  # a comment, e.g. a keep-alive ping
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _reason(exc: BaseException) -> str:
    """A few words on why a connection failed, for a message to the person."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _error_detail(body: bytes) -> str:
    """The server's own error message from an error response body, if it has one."""
    try:
        obj = json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace").strip()[:200]
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail", obj))
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err)[:200]
    return str(obj)[:200]


def _first_choice(chunk: Mapping[str, Any]) -> tuple[str, str | None]:
    """The text piece and finish reason of a completion or chat (stream) chunk."""
    choices = chunk.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return "", None
    choice = choices[0]
    piece = choice.get("text")
    if piece is None:
        body = choice.get("delta") or choice.get("message") or {}
        piece = body.get("content") if isinstance(body, dict) else None
    return (piece if isinstance(piece, str) else ""), choice.get("finish_reason")


# -- one streaming response, read on its own thread -------------------------------------
class _Stream:
    """A POST whose (SSE) response is read on a helper thread into ``events``.

    Events are ``("data", dict)``, then ``("end", None)`` or ``("error", EngineError)``.
    ``close()`` may be called from any thread at any moment, even before the server has
    answered: it shuts the socket down, which ends the helper's blocking read at once.
    """

    def __init__(self, engine: OpenAICompatibleEngine, url: str, body: bytes) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._engine = engine
        self._url = url
        self._body = body
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="remote-engine-stream",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by the server
                sock.shutdown(socket.SHUT_RDWR)

    def _read(self) -> None:
        engine = self._engine
        conn = engine._connection(self._url, engine.connect_timeout)
        answered = False
        try:
            conn.connect()
            with self._lock:
                if self._closed:
                    return
                self._sock = conn.sock
            conn.sock.settimeout(engine.read_timeout)
            conn.request("POST", urlsplit(self._url).path, body=self._body,
                         headers=engine._headers(json_body=True, stream=True))
            response = conn.getresponse()
            answered = True
            if response.status != 200:
                raise EngineError(
                    f"The inference server at {engine.base_url} refused the request "
                    f"(HTTP {response.status}: {_error_detail(response.read())}).")
            if "text/event-stream" not in (response.getheader("Content-Type") or ""):
                self.events.put(("data", json.loads(response.read())))  # stream ignored
            else:
                for data in iter_sse(iter(response.readline, b"")):
                    if data.strip() == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if isinstance(chunk, dict) and chunk.get("error"):
                        raise EngineError(f"The inference server at {engine.base_url} "
                                          f"failed: {_error_detail(data.encode())}.")
                    self.events.put(("data", chunk))
            self.events.put(("end", None))
        except Exception as exc:
            if self._closed:
                return
            if isinstance(exc, EngineError):
                error = exc
            elif isinstance(exc, ValueError):
                error = EngineError(f"The inference server at {engine.base_url} sent a "
                                    "reply that is not valid JSON; is this an "
                                    "OpenAI-compatible server?")
            elif answered:
                error = EngineUnavailable(f"The inference server at {engine.base_url} "
                                          f"stopped mid-answer ({_reason(exc)}); check its "
                                          "log.")
            else:
                error = engine._unreachable(exc)
            self.events.put(("error", error))
        finally:
            conn.close()


# -- the engine -------------------------------------------------------------------------
class OpenAICompatibleEngine(QueuedEngine):
    """An OpenAI-compatible inference server behind the Engine protocol.

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8080/v1`` (``/v1`` is added to
    an address without a path). ``model`` defaults to the first model the server lists.
    Connecting starts at construction; ``wait_ready()`` says whether the server answered
    ``GET /models`` and ``load_error`` says, in one sentence, why not.
    """

    def __init__(self, base_url: str, *, model: str | None = None,
                 api_key: str | None = None, n_ctx: int = 4096,
                 prompt_style: PromptStyle = PromptStyle.CHAT,
                 connect_timeout: float = 5.0, read_timeout: float = 600.0,
                 retry_seconds: float = RETRY_SECONDS) -> None:
        self._bad_url: str | None = None
        try:
            self.base_url = normalize_base_url(base_url)
        except ValueError as exc:
            self.base_url = base_url
            self._bad_url = str(exc)
        root = self.base_url.rstrip("/")
        self._root = root[: -len("/v1")] if root.endswith("/v1") else root
        self._model_wanted = model
        self._api_key = api_key or None
        self._default_n_ctx = n_ctx
        self._prompt_style = prompt_style
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._info = ModelInfo(model or "", self.base_url, "", n_ctx, prompt_style)
        self._ready = False
        #: None: not probed yet; "": the server cannot tokenize; else the working endpoint.
        self._tokenizer: tuple[str, str] | None = None
        self._tokenizer_lock = threading.Lock()
        self._close_timeout = connect_timeout + 5
        self.retry_seconds = retry_seconds
        #: When the last connection attempt failed (time.monotonic), None after a success.
        self._failed_at: float | None = None
        self._retry: concurrent.futures.Future[None] | None = None
        self._retry_lock = threading.Lock()
        self._worker = PriorityWorker("remote-engine", self._connect_noting_failure,
                                      before_job=self._reconnect)
        self._worker.start()

    # -- public API (any thread, the rest comes from QueuedEngine) ----------------------

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Like every engine's, except that a server that did not answer is asked again
        (on the worker thread, at most every ``retry_seconds``): a thinking session that
        starts after the server came up uses it. While that try runs, ``load_error`` is
        None; when it fails, ``load_error`` says why again. Never waits longer than
        ``timeout`` (a try itself is bounded by ``connect_timeout``)."""
        started = time.monotonic()
        if not self._worker.started.wait(timeout):
            return False
        if self._ready or self._bad_url is not None or self._worker.closed:
            return self._ready
        retry = self._start_retry()
        if retry is not None:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            concurrent.futures.wait([retry], timeout=left)
        return self._ready

    def _start_retry(self) -> concurrent.futures.Future[None] | None:
        """The connection try under way, or a new one when the last failure is old enough."""
        with self._retry_lock:
            if self._retry is not None and not self._retry.done():
                return self._retry
            failed_at = self._failed_at
            if failed_at is not None and time.monotonic() - failed_at < self.retry_seconds:
                return None
            self._worker.load_error = None
            try:  # an empty job: the worker's before_job (``_reconnect``) does the work
                self._retry = self._worker.submit(Priority.BACKGROUND, lambda _job: None)
            except EngineError:  # closed meanwhile
                return None
            return self._retry

    def score(self, prompt: str, continuation: str) -> list[float]:
        """Not offered. Prompt log-probabilities (``echo`` with ``logprobs``) are missing
        on llama.cpp's server and Ollama; on llama-cpp-python's, one short question with
        Gemma's 262,144-token vocabulary had not finished after three minutes (measured)
        and cannot be stopped once started. Sleep-time work does without (see
        ``mind/anticipate.py``, ``UNSCORED_LOGPROB``)."""
        raise EngineError("Scoring text is not available on a remote inference server.")

    def warm_prefix(self, text: str) -> str:
        """A remote server keeps its own prompt cache; there is no state file to save."""
        raise EngineError("Prefix states cannot be saved on a remote inference server.")

    def embed(self, texts: Sequence[str],
              priority: Priority = Priority.BACKGROUND) -> list[list[float]]:
        """Embeddings are served by a different model than the chat model on these servers,
        and a profile's vectors must all come from one model: Reverie embeds on this
        computer (see docs/ARCHITECTURE.md, "Thinking on another machine")."""
        raise EngineError("Embeddings are not available from a remote inference server; "
                          "leave the embedding model setting empty to use the built-in one.")

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer, or estimated when it has none.

        llama-cpp-python's endpoint counts the BOS token too (one more than a local count).
        """
        if not text:
            return 0
        if not self._ready:  # no round trips (each up to connect_timeout) to a lost server
            return estimate_tokens(text)
        endpoint = self._find_tokenizer(text)
        if endpoint is None:
            return estimate_tokens(text)
        try:
            status, body = self._call("POST", endpoint[0], self._tokenize_body(endpoint, text))
        except OSError as exc:
            log.debug("tokenize failed (%s); estimating", exc)
            self._went_away(str(self._unreachable(exc)))
            return estimate_tokens(text)
        count = self._token_count(status, body)
        return estimate_tokens(text) if count is None else count

    # -- HTTP --------------------------------------------------------------------------
    def _connection(self, url: str, timeout: float) -> http.client.HTTPConnection:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "https":
            return http.client.HTTPSConnection(host, parts.port, timeout=timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(host, parts.port, timeout=timeout)

    def _headers(self, *, json_body: bool, stream: bool = False) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json",
                   "User-Agent": "Reverie"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _call(self, method: str, url: str,
              body: Mapping[str, Any] | None = None) -> tuple[int, bytes]:
        """One short request; raises OSError when the server cannot be reached."""
        conn = self._connection(url, self.connect_timeout)
        try:
            data = None if body is None else json.dumps(body).encode("utf-8")
            conn.request(method, urlsplit(url).path, body=data,
                         headers=self._headers(json_body=body is not None))
            response = conn.getresponse()
            return response.status, response.read()
        except http.client.HTTPException as exc:
            raise ConnectionError(_reason(exc)) from exc
        finally:
            conn.close()

    def _unreachable(self, exc: BaseException) -> EngineUnavailable:
        return EngineUnavailable(f"Cannot reach the inference server at {self.base_url} "
                           f"({_reason(exc)}); check that it is running.")

    # -- connecting --------------------------------------------------------------------
    def _went_away(self, why: str) -> None:
        """The server stopped answering: not ready until a later try connects again."""
        self._ready = False
        self._failed_at = time.monotonic()
        self._worker.load_error = why

    def _connect_noting_failure(self) -> None:
        try:
            self._connect()
        except EngineError:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None

    def _connect(self) -> None:
        """Ask the server for its models; sets ``info`` or raises EngineError."""
        if self._bad_url is not None:
            raise EngineError(self._bad_url)
        try:
            status, body = self._call("GET", self.base_url + "/models")
        except OSError as exc:
            raise self._unreachable(exc) from None
        if status in (401, 403):
            raise EngineError(f"The inference server at {self.base_url} refused the API "
                              f"key (HTTP {status}); check the key in Settings.")
        if status != 200:
            raise EngineError(f"{self.base_url} does not look like an OpenAI-compatible "
                              f"server (GET /models answered HTTP {status}); check the "
                              "address, which usually ends in /v1.")
        try:
            listing = json.loads(body)
            models = [m for m in listing.get("data", []) if isinstance(m, dict)]
        except (ValueError, AttributeError):
            raise EngineError(f"{self.base_url} does not look like an OpenAI-compatible "
                              "server (its model list is not JSON); check the address.") \
                from None
        ids = [str(m.get("id")) for m in models if m.get("id")]
        if self._model_wanted:
            name = self._model_wanted
            if name not in ids:
                log.warning("the server at %s does not list the model %r (it lists %s)",
                            self.base_url, name, ", ".join(ids) or "none")
        elif ids:
            name = ids[0]
        else:
            raise EngineError(f"The inference server at {self.base_url} lists no models; "
                              "load one there, or name the model in Settings.")
        entry = next((m for m in models if m.get("id") == name), {})
        n_ctx = self._server_n_ctx(entry) or self._default_n_ctx
        self._info = ModelInfo(name, self.base_url, "", n_ctx, self._prompt_style)
        self._ready = True
        self._worker.load_error = None
        log.info("connected to %s (model %s, n_ctx %d)", self.base_url, name, n_ctx)

    def _server_n_ctx(self, entry: Mapping[str, Any]) -> int | None:
        """The context size the server reports: vLLM's max_model_len, llama.cpp's /props."""
        value = entry.get("max_model_len") or entry.get("context_length")
        if isinstance(value, int) and value > 0:
            return value
        try:
            status, body = self._call("GET", self._root + "/props")
            props = json.loads(body) if status == 200 else {}
        except (OSError, ValueError):
            return None
        if not isinstance(props, dict):
            return None
        settings = props.get("default_generation_settings")
        value = props.get("n_ctx") or (settings.get("n_ctx") if isinstance(settings, dict)
                                       else None)
        return value if isinstance(value, int) and value > 0 else None

    # -- tokenizing --------------------------------------------------------------------
    def _tokenizer_candidates(self) -> list[tuple[str, str]]:
        return [(self._root + "/extras/tokenize/count", "llama-cpp-python"),
                (self._root + "/tokenize", "llama.cpp"),
                (self._root + "/tokenize", "vllm")]

    def _tokenize_body(self, endpoint: tuple[str, str], text: str) -> dict[str, Any]:
        if endpoint[1] == "llama-cpp-python":
            return {"input": text, "model": self._info.name}
        if endpoint[1] == "llama.cpp":
            return {"content": text, "add_special": False}
        return {"model": self._info.name, "prompt": text, "add_special_tokens": False}

    @staticmethod
    def _token_count(status: int, body: bytes) -> int | None:
        if status != 200:
            return None
        try:
            obj = json.loads(body)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        if isinstance(obj.get("count"), int):
            return int(obj["count"])
        tokens = obj.get("tokens")
        return len(tokens) if isinstance(tokens, list) else None

    def _find_tokenizer(self, sample: str) -> tuple[str, str] | None:
        """The tokenize endpoint this server has, found once; None when it has none."""
        with self._tokenizer_lock:
            if self._tokenizer is not None:
                return self._tokenizer if self._tokenizer[0] else None
            for endpoint in self._tokenizer_candidates():
                try:
                    status, body = self._call("POST", endpoint[0],
                                              self._tokenize_body(endpoint, sample))
                except OSError:
                    return None  # unreachable now: try again next time
                if self._token_count(status, body) is not None:
                    log.info("token counts from the server's %s tokenize endpoint",
                             endpoint[1])
                    self._tokenizer = endpoint
                    return endpoint
            log.info("the server at %s cannot tokenize; token counts are estimated at %d "
                     "characters per token", self.base_url, CHARS_PER_TOKEN)
            self._tokenizer = ("", "")
            return None

    # -- worker thread -----------------------------------------------------------------
    def _reconnect(self) -> None:
        """Before each request: the server may have come up since the last attempt."""
        if not self._ready:
            try:
                self._connect_noting_failure()
            except EngineError as exc:
                self._worker.load_error = str(exc)
                raise

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._info.name,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.prompt is not None:
            body["prompt"] = request.prompt
        else:
            body["messages"] = [{"role": m.role, "content": m.content}
                                for m in request.messages or ()]
        stops = [s for s in request.stop if s]
        if stops:
            body["stop"] = stops
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _generate(self, job: Job, request: GenerationRequest,
                  on_token: TokenCallback | None) -> GenerationResult:
        started = time.perf_counter()
        path = "/completions" if request.prompt is not None else "/chat/completions"
        stream = _Stream(self, self.base_url + path,
                         json.dumps(self._body(request)).encode("utf-8"))
        out = StopStream(request.stop, on_token)
        chunks, ttft = 0, 0.0
        finish = FinishReason.STOP
        usage: Mapping[str, Any] | None = None
        server_cached = 0
        try:
            while True:
                if self._worker.interrupt_requested():
                    finish = self._worker.interrupted_reason(job)
                    out.interrupt()
                    break
                try:
                    kind, payload = stream.events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if kind == "error":
                    if isinstance(payload, EngineUnavailable):  # ask again before the next
                        self._went_away(str(payload))
                    raise payload
                if kind == "end":
                    break
                if isinstance(payload.get("usage"), dict):
                    usage = payload["usage"]
                timings = payload.get("timings")
                if isinstance(timings, dict) and isinstance(timings.get("cache_n"), int):
                    server_cached = timings["cache_n"]
                piece, reason = _first_choice(payload)
                if reason is not None:
                    finish = FinishReason.LENGTH if reason == "length" else FinishReason.STOP
                if not piece:
                    continue
                chunks += 1
                if chunks == 1:
                    ttft = (time.perf_counter() - started) * 1000
                if out.add(piece):  # the server did not honour the stop sequence itself
                    finish = FinishReason.STOP
                    break
        finally:
            stream.close()
        text = out.finish()
        total_ms = (time.perf_counter() - started) * 1000  # before any tokenize round trip
        interrupted = finish in (FinishReason.CANCELLED, FinishReason.ABORTED)
        prompt_tokens, cached, completion = self._accounting(
            request, usage, server_cached, chunks, interrupted)
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            cached_tokens=cached,
            completion_tokens=completion,
            ttft_ms=ttft,
            total_ms=total_ms,
            model=self._info.name,
            progress=f"decoded {chunks}" if chunks else "waiting for the server",
            extra={"usage_from_server": 1.0 if usage is not None else 0.0},
        )

    def _accounting(self, request: GenerationRequest, usage: Mapping[str, Any] | None,
                    server_cached: int, chunks: int,
                    interrupted: bool) -> tuple[int, int, int]:
        """(prompt tokens evaluated now, cached prompt tokens, completion tokens)."""
        if usage is not None:
            details = usage.get("prompt_tokens_details")
            cached = details.get("cached_tokens") if isinstance(details, dict) else None
            cached = cached if isinstance(cached, int) else server_cached
            total = usage.get("prompt_tokens")
            total = total if isinstance(total, int) else 0
            completion = usage.get("completion_tokens")
            return (max(0, total - cached), min(cached, total),
                    completion if isinstance(completion, int) else chunks)
        if interrupted:  # keep cancelling fast: no extra round trip to the server
            return (self._estimate_prompt(request) if chunks else 0), 0, chunks
        if request.prompt is not None:
            total = self.count_tokens(request.prompt)
        else:
            total = self._count_messages(request.messages or ())
        return max(0, total - server_cached), min(server_cached, total), chunks

    def _count_messages(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS for m in messages)

    @staticmethod
    def _estimate_prompt(request: GenerationRequest) -> int:
        if request.prompt is not None:
            return estimate_tokens(request.prompt)
        return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS
                   for m in request.messages or ())
