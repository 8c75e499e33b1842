"""Models served by Ollama, through the official `ollama` client. Names as Ollama users write them
(`llama3`, `llama3:8b-instruct-q4_K_M`); the server applies the model's own template and stops.

Context window: RAG_LLM__CONTEXT_WINDOW, else the model's `num_ctx` parameter, else its trained
`*.context_length` from `/api/show` capped at 8192. It is always sent as `num_ctx`, so Ollama never
silently truncates a prompt that our overflow check let through.

Token counts: Ollama has no tokenize endpoint. `count_tokens` is a generous character-based estimate that
calibrates itself on the `prompt_eval_count` Ollama reports after each call (see `TokenEstimator`).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from functools import cached_property
from typing import Any

import httpx
import ollama

from rag_core.cancel import CancelToken
from rag_core.errors import BackendUnavailable, GenerationTimeout, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import BaseLLM, Chunk, TokenEstimator, as_dicts, describe_error, sampling

DEFAULT_URL = "http://127.0.0.1:11434"
DEFAULT_MODEL = "llama3"
CONTEXT_CAP = 8192


class OllamaLLM(BaseLLM):
    backend = "ollama"

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings)
        self.model_name = settings.model or DEFAULT_MODEL
        self.base_url = settings.base_url or DEFAULT_URL
        self.client = ollama.Client(host=self.base_url, timeout=settings.timeout_s)
        self.estimator = TokenEstimator()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return ModelNotFound(
                    f"Ollama at {self.base_url} has no model {self.model_name!r}: {exc.error}",
                    hint=f"pull it: `ollama pull {self.model_name}`",
                )
            return BackendUnavailable(
                f"Ollama error: {exc.error} (HTTP {exc.status_code})", hint="see `ollama serve`'s log"
            )
        if isinstance(exc, httpx.TimeoutException):
            return GenerationTimeout(
                f"Ollama at {self.base_url} did not answer within {self.settings.timeout_s:g} s",
                hint="raise RAG_LLM__TIMEOUT_S or use a smaller model",
            )
        if isinstance(exc, (ConnectionError, httpx.TransportError)):
            return BackendUnavailable(
                f"cannot reach Ollama at {self.base_url}",
                hint="start it: `ollama serve` (or set RAG_LLM__BASE_URL to where it runs)",
            )
        return exc

    def show(self) -> Any:
        return self._call(self.client.show, self.model_name)

    @cached_property
    def _served_window(self) -> int:  # not cached when the server cannot be reached
        return _window_from_show(self.show())

    def _model_window(self) -> int:
        return self._served_window

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self.estimator.estimate(messages)

    def warm_up(self) -> None:
        _ = self.context_window
        self._call(self.client.chat, model=self.model_name, messages=[])

    def status(self) -> ModelStatus:
        try:
            window = self.context_window
        except (BackendUnavailable, ModelNotFound) as exc:
            return ModelStatus(self.backend, self.model_name, False, describe_error(exc))
        return ModelStatus(
            self.backend, self.model_name, True, f"served by Ollama at {self.base_url}", window
        )

    def _options(self, options: GenerationOptions) -> dict[str, Any]:
        return {**sampling(options, max_tokens="num_predict"), "num_ctx": self.context_window}

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        request = {
            "model": self.model_name,
            "messages": as_dicts(messages),
            "options": self._options(options),
        }
        if not streaming:
            response = self._call(self.client.chat, stream=False, **request)
            yield Chunk(text=response.message.content or "")
            yield self._finish(messages, response)
            return
        parts = self._call(self.client.chat, stream=True, **request)
        try:
            while not cancel.cancelled:
                try:
                    part = next(parts)
                except StopIteration:
                    return
                except Exception as exc:
                    raise self._translate(exc) from None
                if part.message.content:
                    yield Chunk(text=part.message.content)
                if part.done:
                    yield self._finish(messages, part)
                    return
        finally:
            parts.close()

    def _finish(self, messages: Sequence[ChatMessage], response: Any) -> Chunk:
        if response.prompt_eval_count:
            self._calibrated(self.estimator, messages, response.prompt_eval_count)
        return Chunk(
            finish_reason="length" if response.done_reason == "length" else "stop",
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
        )


def _window_from_show(show: Any) -> int:
    for line in (show.parameters or "").splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            return int(value.strip())
    for key, value in (show.modelinfo or {}).items():
        if key.endswith(".context_length") and isinstance(value, int) and value > 0:
            return min(value, CONTEXT_CAP)
    return 2048
