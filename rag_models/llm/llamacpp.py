"""In-process GGUF models through llama.cpp (`xllamacpp`: prebuilt CPU wheel, no compiling).

xllamacpp embeds llama-server: generation goes through `Server.handle_chat_completions` (the chat template
comes from the GGUF metadata, applied by llama.cpp; end-of-generation tokens such as Llama-3's
`<|eot_id|>` stop it). The embedded server also listens on a random loopback port; it is locked with a
random API key and used only for token counting (`/v1/chat/completions/input_tokens`) and template
rendering (`/apply-template`).
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import httpx

from rag_core.cancel import CancelToken
from rag_core.errors import BackendError, ContextOverflow, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models import bundled
from rag_models.llm.base import ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import END_OF_TURN_MARKERS, BaseLLM, Chunk, as_dicts, describe_error, sampling
from rag_models.llm.gguf_meta import read_metadata, trained_context

CPU_CONTEXT_CAP = 4096
GPU_CONTEXT_CAP = 8192
PROMPT_CACHE_MIB = 256  # llama-server's host-RAM prompt cache (its default: 8192)
_DONE = object()


class LlamaCppLLM(BaseLLM):
    backend = "llamacpp"
    serialize = True
    extra_stops = END_OF_TURN_MARKERS

    def __init__(self, settings: LLMSettings) -> None:
        import xllamacpp

        super().__init__(settings)
        self._xlc = xllamacpp
        self.path = Path(settings.model).expanduser() if settings.model else bundled.smollm2_gguf()
        self.model_name = settings.model or f"{bundled.SMOLLM2_GGUF} (bundled)"
        self._server: Any = None
        self._http: httpx.Client | None = None
        self._meta: dict[str, object] | None = None
        self._load_lock = threading.Lock()
        self.last_timings: dict[str, float] = {}

    def metadata(self) -> dict[str, object]:
        if self._meta is None:
            if not self.path.is_file():
                raise ModelNotFound(
                    f"GGUF model file {self.path} does not exist",
                    hint="set RAG_LLM__MODEL to the path of a .gguf file (e.g. a Llama-3-8B-Instruct Q4_K_M)",
                )
            self._meta = read_metadata(self.path)
        return self._meta

    def _model_window(self) -> int:
        cap = CPU_CONTEXT_CAP if self.settings.gpu_layers == 0 else GPU_CONTEXT_CAP
        trained = trained_context(self.metadata())
        return min(trained, cap) if trained else cap

    def _load(self) -> tuple[Any, httpx.Client]:
        with self._load_lock:
            if self._server is not None and self._http is not None:
                return self._server, self._http
            self.metadata()
            xlc = self._xlc
            params = xlc.CommonParams()
            params.model.path = str(self.path)
            params.n_ctx = self.context_window
            params.n_parallel = 1
            # llama-server keeps finished prompts' KV state in RAM for reuse, up to 8 GiB by default: under
            # varied questions the process then grows by that much. Bounded, it still reuses shared prefixes.
            params.cache_ram_mib = PROMPT_CACHE_MIB
            params.n_gpu_layers = self.settings.gpu_layers
            params.cpuparams.n_threads = self.settings.threads or -1
            params.cpuparams_batch.n_threads = self.settings.threads or -1
            params.verbosity = self.settings.log_verbosity
            params.ui = False
            if self.settings.chat_template:
                params.chat_template = self.settings.chat_template
                params.use_jinja = "{{" in self.settings.chat_template or "{%" in self.settings.chat_template
            key = secrets.token_urlsafe(24)
            params.api_keys = [key]
            try:
                server = xlc.Server(params)
            except RuntimeError as exc:
                raise BackendError(
                    f"llama.cpp could not load {self.path}: {exc}",
                    hint="set RAG_LLM__LOG_VERBOSITY=3 to see llama.cpp's log; check that the file is a "
                    "complete GGUF of a supported architecture and RAG_LLM__CONTEXT_WINDOW fits in memory",
                ) from None
            self._http = httpx.Client(
                base_url=server.listening_address, headers={"Authorization": f"Bearer {key}"}, timeout=60
            )
            self._server = server
            return server, self._http

    def warm_up(self) -> None:
        self._load()

    def close(self) -> None:
        with self._load_lock:
            if self._http is not None:
                self._http.close()
            self._server, self._http = None, None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        _, http = self._load()
        response = http.post(path, json=body)
        data = response.json()
        if response.status_code != 200 or "error" in data:
            raise _error(data.get("error", data))
        return dict(data)

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        data = self._post("/v1/chat/completions/input_tokens", {"messages": as_dicts(messages)})
        return int(data["input_tokens"])

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt the model sees for these messages: the chat template applied by llama.cpp, tokenized
        (adding BOS where the vocabulary asks for it) and detokenized with special tokens shown."""
        text = self._post("/apply-template", {"messages": as_dicts(messages)})["prompt"]
        tokenized = self._post("/tokenize", {"content": text, "add_special": True, "parse_special": True})
        return str(self._post("/detokenize", {"tokens": tokenized["tokens"]})["content"])

    def status(self) -> ModelStatus:
        try:
            meta = self.metadata()
            window = self.context_window
        except ModelNotFound as exc:
            return ModelStatus(self.backend, self.model_name, False, describe_error(exc))
        state = "loaded" if self._server is not None else "loads on first use"
        detail = f"{self.path} ({meta.get('general.architecture', '?')}, GGUF); {state}"
        return ModelStatus(self.backend, self.model_name, True, detail, window)

    def request(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> dict[str, Any]:
        return {
            "messages": as_dicts(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            **sampling(options, max_tokens="max_tokens"),
        }

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        server, _ = self._load()
        events: queue.Queue[Any] = queue.Queue()
        abandon = threading.Event()

        def on_event(event: dict[str, Any]) -> bool:
            events.put(event)
            return abandon.is_set() or cancel.cancelled

        def work() -> None:
            try:
                server.handle_chat_completions(self.request(messages, options), on_event)
            except Exception as exc:
                events.put(exc)
            finally:
                events.put(_DONE)

        worker = threading.Thread(target=work, name="llamacpp-generate", daemon=True)
        worker.start()
        finish: str | None = None
        usage: dict[str, Any] = {}
        try:
            while True:
                try:
                    event = events.get(timeout=0.1)
                except queue.Empty:
                    if cancel.cancelled:
                        return
                    continue
                if event is _DONE:
                    break
                if cancel.cancelled:
                    return
                if isinstance(event, Exception):
                    raise BackendError(
                        f"llama.cpp failed: {event}", hint="see RAG_LLM__LOG_VERBOSITY=3"
                    ) from event
                if "error" in event:
                    raise _error(event["error"])
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield Chunk(text=text)
                    finish = choice.get("finish_reason") or finish
                if event.get("usage"):
                    usage = event["usage"]
                    self.last_timings = dict(event.get("timings") or {})
            if finish is not None and not cancel.cancelled:
                yield Chunk(
                    finish_reason=finish,
                    prompt_tokens=usage.get("prompt_tokens"),
                    completion_tokens=usage.get("completion_tokens"),
                )
        finally:
            abandon.set()
            with contextlib.suppress(RuntimeError):
                worker.join(timeout=max(cancel.remaining(), 1.0))


def _error(error: Any) -> Exception:
    if not isinstance(error, dict):
        return BackendError(f"llama.cpp error: {error}")
    if error.get("type") == "exceed_context_size_error":
        return ContextOverflow(int(error.get("n_prompt_tokens", 0)), int(error.get("n_ctx", 0)))
    return BackendError(
        f"llama.cpp error: {error.get('message', error)}", hint="set RAG_LLM__LOG_VERBOSITY=3 to see its log"
    )
