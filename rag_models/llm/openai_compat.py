"""Any OpenAI-compatible chat server (vLLM, llama.cpp's llama-server, Ollama's /v1, TGI, LM Studio) through
the `openai` client: the path to scale generation out to GPU servers.

Context window: RAG_LLM__CONTEXT_WINDOW, else what `GET /models` reports for the model (vLLM's
`max_model_len`, llama-server's `meta.n_ctx`), else 4096.
Token counts: vLLM's `POST /tokenize` (exact, chat template included) when the server has it, else the
self-calibrating estimate also used for Ollama (calibrated on the `usage` each answer reports).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from functools import cached_property
from typing import Any

import httpx
import openai

from rag_core.cancel import CancelToken
from rag_core.errors import BackendUnavailable, ContextOverflow, GenerationTimeout, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models.llm.base import ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import BaseLLM, Chunk, TokenEstimator, as_dicts, describe_error, sampling

DEFAULT_URL = "http://127.0.0.1:8000/v1"
FALLBACK_WINDOW = 4096


class OpenAICompatLLM(BaseLLM):
    backend = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings)
        if not settings.model:
            raise ModelNotFound(
                "the openai backend needs the served model name",
                hint="set RAG_LLM__MODEL to a name listed by GET /v1/models "
                "(e.g. meta-llama/Meta-Llama-3-8B-Instruct)",
            )
        self.model_name = settings.model
        self.base_url = (settings.base_url or DEFAULT_URL).rstrip("/")
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self._headers = {"Authorization": f"Bearer {key}"}
        self.client = openai.OpenAI(
            base_url=self.base_url, api_key=key, timeout=settings.timeout_s, max_retries=0
        )
        self.estimator = TokenEstimator()
        self._tokenize_ok: bool | None = None
        self._vendor_params = "api.openai.com" not in self.base_url

    def _translate(self, exc: Exception) -> Exception:
        if isinstance(exc, openai.APITimeoutError):
            return GenerationTimeout(
                f"{self.base_url} did not answer within {self.settings.timeout_s:g} s",
                hint="raise RAG_LLM__TIMEOUT_S or lower max_new_tokens",
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendUnavailable(
                f"cannot reach the OpenAI-compatible server at {self.base_url}",
                hint="start the server (e.g. `vllm serve MODEL`) or fix RAG_LLM__BASE_URL",
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return BackendUnavailable(f"{self.base_url} refused the API key", hint="set RAG_LLM__API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return ModelNotFound(
                f"{self.base_url} does not serve model {self.model_name!r}",
                hint=f"set RAG_LLM__MODEL to a name listed by GET {self.base_url}/models",
            )
        if isinstance(exc, openai.BadRequestError) and "context" in str(exc).lower():
            return ContextOverflow(0, self.context_window, hint=f"the server said: {exc}")
        if isinstance(exc, openai.APIStatusError):
            return BackendUnavailable(f"{self.base_url} failed: {exc}", hint="check the server's log")
        return exc

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None

    def _model_entry(self) -> Any:
        for entry in self._call(self.client.models.list):
            if entry.id == self.model_name:
                return entry
        raise ModelNotFound(
            f"{self.base_url} does not serve model {self.model_name!r}",
            hint=f"set RAG_LLM__MODEL to a name listed by GET {self.base_url}/models",
        )

    @cached_property
    def _served_window(self) -> int:  # not cached when the server cannot be reached
        return _window_from_entry(self._model_entry())

    def _model_window(self) -> int:
        return self._served_window

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        if self._tokenize_ok is not False:
            root = self.base_url.removesuffix("/v1")
            body = {"model": self.model_name, "messages": as_dicts(messages), "add_generation_prompt": True}
            try:
                response = httpx.post(f"{root}/tokenize", json=body, headers=self._headers, timeout=30)
                count = response.json().get("count") if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                count = None
            if isinstance(count, int):
                self._tokenize_ok = True
                return count
            if self._tokenize_ok is None:
                self._tokenize_ok = False
        return self.estimator.estimate(messages)

    def status(self) -> ModelStatus:
        try:
            self._model_entry()
            window = self.context_window
        except (BackendUnavailable, ModelNotFound) as exc:
            return ModelStatus(self.backend, self.model_name, False, describe_error(exc))
        return ModelStatus(self.backend, self.model_name, True, f"served at {self.base_url}", window)

    def warm_up(self) -> None:
        self._model_entry()

    def _request(
        self, messages: Sequence[ChatMessage], options: GenerationOptions, stream: bool
    ) -> dict[str, Any]:
        params = sampling(options, max_tokens="max_tokens")
        vendor = {"top_k": params.pop("top_k"), "repetition_penalty": params.pop("repeat_penalty")}
        request: dict[str, Any] = {"model": self.model_name, "messages": as_dicts(messages), "stream": stream}
        request |= params
        if stream:
            request["stream_options"] = {"include_usage": True}
        if self._vendor_params:
            request["extra_body"] = vendor
        return request

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        if not streaming:
            response = self._call(
                self.client.chat.completions.create, **self._request(messages, options, False)
            )
            choice = response.choices[0]
            yield Chunk(text=choice.message.content or "")
            yield self._finish(messages, choice.finish_reason, response.usage)
            return
        stream = self._call(self.client.chat.completions.create, **self._request(messages, options, True))
        finish: str | None = None
        usage: Any = None
        try:
            iterator = iter(stream)
            while not cancel.cancelled:
                try:
                    event = next(iterator)
                except StopIteration:
                    break
                except openai.OpenAIError as exc:
                    raise self._translate(exc) from None
                for choice in event.choices or []:
                    if choice.delta and choice.delta.content:
                        yield Chunk(text=choice.delta.content)
                    finish = choice.finish_reason or finish
                usage = event.usage or usage
            if finish is not None and not cancel.cancelled:
                yield self._finish(messages, finish, usage)
        finally:
            stream.close()

    def _finish(self, messages: Sequence[ChatMessage], finish: str | None, usage: Any) -> Chunk:
        prompt = getattr(usage, "prompt_tokens", None)
        if prompt and not self._tokenize_ok:
            self._calibrated(self.estimator, messages, prompt)
        return Chunk(
            finish_reason="length" if finish == "length" else "stop",
            prompt_tokens=prompt,
            completion_tokens=getattr(usage, "completion_tokens", None),
        )


def _window_from_entry(entry: Any) -> int:
    extra = dict(getattr(entry, "model_extra", None) or {})
    meta = extra.get("meta") or {}
    for value in (
        extra.get("max_model_len"),
        meta.get("n_ctx"),
        meta.get("n_ctx_train"),
        extra.get("context_length"),
    ):
        if isinstance(value, int) and value > 0:
            return value
    return FALLBACK_WINDOW
