"""Fixtures for the LLM tests.

- Local HTTP servers speaking the Ollama API (docs/api.md in the ollama repo: /api/chat streaming NDJSON and
  non-streaming, /api/tags, /api/show) and the OpenAI chat API (/v1/models, /v1/chat/completions with SSE
  streaming, vLLM's /tokenize). Their "model" answers "You said: <last user message>" (or a set `reply`, as
  a real Llama-3 would answer), one word per token, honouring max tokens and stop sequences.
- A tiny Llama-3-format GGUF (`llama3_gguf.py`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM
from rag_models.llm.factory import build_llm
from tests.llm.llama3_gguf import LLAMA3_CHAT_TEMPLATE, write_llama3_format_gguf


def reply_words(messages: list[dict[str, Any]], words: int = 0, reply: str | None = None) -> list[str]:
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    text = reply if reply is not None else f"You said: {last}" + "".join(f" word{i}" for i in range(words))
    parts = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(len(m.get("content", "")) // 4 + 5 for m in messages) + 4


def apply_limits(words: list[str], max_tokens: int | None, stops: list[str]) -> tuple[list[str], str]:
    out: list[str] = []
    for word in words:
        if max_tokens is not None and len(out) >= max_tokens:
            return out, "length"
        text = "".join(out) + word
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            done = "".join(out)
            if cut > len(done):
                out.append(text[len(done) : cut])
            return out, "stop"
        out.append(word)
    return out, "stop"


@dataclass
class ServerState:
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    token_delay: float = 0.0
    extra_words: int = 0
    api_key: str | None = None
    tokenize: bool = False
    disconnects: int = 0
    reply: str | None = None  # what the model answers, instead of echoing the question


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    state: ServerState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.end_headers()

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.state.disconnects += 1
            return False


def _ollama_name(name: str) -> str:
    return name if ":" in name else f"{name}:latest"


class OllamaHandler(_Handler):
    def do_GET(self) -> None:
        if self.path == "/api/tags":
            models = [
                {
                    "name": name,
                    "model": name,
                    "modified_at": "2024-05-01T10:00:00Z",
                    "size": 4_661_224_676,
                    "digest": "365c0bd3c000",
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B"},
                }
                for name in self.state.models
            ]
            self._json(200, {"models": models})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self._body()
        self.state.requests.append((self.path, body))
        name = _ollama_name(body.get("model", ""))
        if self.path not in ("/api/chat", "/api/show"):
            self._json(404, {"error": "not found"})
            return
        if name not in self.state.models:
            self._json(404, {"error": f"model '{body.get('model')}' not found"})
            return
        model = self.state.models[name]
        if self.path == "/api/show":
            self._json(
                200,
                {
                    "modelfile": f"FROM {name}",
                    "parameters": model.get("parameters", ""),
                    "template": "{{ .Prompt }}",
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B"},
                    "model_info": {"general.architecture": "llama", "llama.context_length": model["context"]},
                },
            )
            return
        self._chat(body)

    def _chat(self, body: dict[str, Any]) -> None:
        messages = body.get("messages") or []
        created = "2024-05-01T10:00:00Z"
        if not messages:
            self._json(
                200,
                {
                    "model": body["model"],
                    "created_at": created,
                    "message": {"role": "assistant", "content": ""},
                    "done_reason": "load",
                    "done": True,
                },
            )
            return
        options = body.get("options") or {}
        words, reason = apply_limits(
            reply_words(messages, self.state.extra_words, self.state.reply),
            options.get("num_predict"),
            options.get("stop") or [],
        )
        final = {
            "model": body["model"],
            "created_at": created,
            "done": True,
            "done_reason": reason,
            "total_duration": 1_000_000,
            "prompt_eval_count": prompt_tokens(messages),
            "eval_count": len(words),
        }
        if body.get("stream") is False:
            final["message"] = {"role": "assistant", "content": "".join(words)}
            self._json(200, final)
            return
        self._start_stream("application/x-ndjson")
        for word in words:
            part = {
                "model": body["model"],
                "created_at": created,
                "message": {"role": "assistant", "content": word},
                "done": False,
            }
            if not self._write(json.dumps(part).encode() + b"\n"):
                return
            time.sleep(self.state.token_delay)
        final["message"] = {"role": "assistant", "content": ""}
        self._write(json.dumps(final).encode() + b"\n")


class OpenAIHandler(_Handler):
    def _authorised(self) -> bool:
        if self.state.api_key and self.headers.get("Authorization") != f"Bearer {self.state.api_key}":
            self._json(
                401, {"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": 401}}
            )
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorised():
            return
        if self.path == "/v1/models":
            data = [
                {
                    "id": name,
                    "object": "model",
                    "created": 0,
                    "owned_by": "vllm",
                    "max_model_len": m["context"],
                }
                for name, m in self.state.models.items()
            ]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, {"error": {"message": "not found", "type": "NotFoundError", "code": 404}})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        body = self._body()
        self.state.requests.append((self.path, body))
        if self.path == "/tokenize" and self.state.tokenize:
            count = prompt_tokens(body.get("messages") or [])
            self._json(200, {"count": count, "max_model_len": 8192, "tokens": list(range(count))})
            return
        if self.path != "/v1/chat/completions":
            self._json(404, {"detail": "Not Found"})
            return
        if body.get("model") not in self.state.models:
            message = f"The model `{body.get('model')}` does not exist."
            self._json(404, {"error": {"message": message, "type": "NotFoundError", "code": 404}})
            return
        messages = body["messages"]
        words, reason = apply_limits(
            reply_words(messages, self.state.extra_words, self.state.reply),
            body.get("max_tokens"),
            body.get("stop") or [],
        )
        usage = {"prompt_tokens": prompt_tokens(messages), "completion_tokens": len(words)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        head = {"id": "chatcmpl-1", "created": 1714557600, "model": body["model"]}
        if not body.get("stream"):
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(words)},
                "finish_reason": reason,
            }
            self._json(200, {**head, "object": "chat.completion", "choices": [choice], "usage": usage})
            return
        self._start_stream("text/event-stream")
        chunk = {**head, "object": "chat.completion.chunk"}
        events = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
        events += [
            {**chunk, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
            for w in words
        ]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": usage})
        for event in events:
            if not self._write(b"data: " + json.dumps(event).encode() + b"\n\n"):
                return
            time.sleep(self.state.token_delay)
        self._write(b"data: [DONE]\n\n")


class FakeServer:
    def __init__(self, handler: type[_Handler], state: ServerState) -> None:
        self.state = state
        handler_cls = type("BoundHandler", (handler,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        return [path for path, _ in self.state.requests]


@pytest.fixture(scope="session")
def llama3_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny Llama-3-format GGUF whose greedy answer is `<|eot_id|>` at once."""
    return write_llama3_format_gguf(tmp_path_factory.mktemp("gguf") / "llama3-eot.gguf", "<|eot_id|>")


@pytest.fixture(scope="session")
def llama3_gguf_x(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model, except that its greedy answer is "xxxx..." until max tokens."""
    return write_llama3_format_gguf(tmp_path_factory.mktemp("gguf") / "llama3-x.gguf", "x")


@pytest.fixture(scope="session")
def smollm2() -> Iterator[LLM]:
    """The bundled SmolLM2 GGUF through the llamacpp backend, loaded once for the session."""
    llm = build_llm(LLMSettings())
    llm.warm_up()
    yield llm


OLLAMA_MODELS = {
    "llama3:latest": {"context": 8192, "parameters": 'stop "<|start_header_id|>"\nstop "<|eot_id|>"'},
    "llama3:8b-instruct-q4_K_M": {"context": 8192, "parameters": "num_ctx 4096"},
    "tiny:latest": {"context": 8192, "parameters": "num_ctx 256"},
}


@pytest.fixture
def ollama_server() -> Iterator[FakeServer]:
    with FakeServer(OllamaHandler, ServerState(models=dict(OLLAMA_MODELS))) as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeServer]:
    state = ServerState(models={"meta-llama/Meta-Llama-3-8B-Instruct": {"context": 8192}}, api_key="sk-test")
    with FakeServer(OpenAIHandler, state) as server:
        yield server


@pytest.fixture
def closed_port() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def llama3_template() -> str:
    return LLAMA3_CHAT_TEMPLATE
