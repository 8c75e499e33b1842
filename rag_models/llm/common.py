"""What every backend shares: option defaults, the context-overflow check, stop sequences, the timeout,
cancellation and the one-generation-at-a-time lock for in-process models.

A backend subclasses `BaseLLM` and implements `_model_window`, `_count_tokens`, `_chunks` and `status`.
`generate` and `stream` are defined here once, so the checks run the same way for every backend.
"""

from __future__ import annotations

import contextlib
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rag_core.cancel import CancelToken
from rag_core.errors import ContextOverflow, GenerationTimeout, InvalidInputError
from rag_core.scripts import CJK_AND_HANGUL
from rag_core.settings import LLMSettings
from rag_models.llm.base import LLM, ChatMessage, Generation, GenerationOptions, ModelStatus

END_OF_TURN_MARKERS = ("<|eot_id|>", "<|end_of_text|>", "<|im_end|>")
"""End-of-turn markers of Llama-3 (`<|eot_id|>`, `<|end_of_text|>`) and ChatML (SmolLM2, Qwen).
In-process backends stop on them even when a template leaks one into the text."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One step of a backend's output: a text delta and, at the end, the finish reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def default_options(settings: LLMSettings) -> GenerationOptions:
    return GenerationOptions(
        temperature=settings.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        repetition_penalty=settings.repetition_penalty,
        max_new_tokens=settings.max_new_tokens,
        seed=settings.seed,
    )


def sampling(options: GenerationOptions, *, max_tokens: str) -> dict[str, Any]:
    """The options as the llama.cpp server, Ollama and OpenAI-compatible servers name them (each names
    the answer's length its own way: `max_tokens`); stop and seed only when set."""
    params: dict[str, Any] = {
        "temperature": options.temperature,
        "top_p": options.top_p,
        "top_k": options.top_k,
        "repeat_penalty": options.repetition_penalty,
        max_tokens: options.max_new_tokens,
    }
    if options.stop:
        params["stop"] = list(options.stop)
    if options.seed is not None:
        params["seed"] = options.seed
    return params


def as_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


class StopFilter:
    """Cuts a stream of deltas at the first stop sequence. Only text that could be the start of a stop
    sequence (a suffix matching a stop's prefix) is held back, so ordinary deltas pass through at once."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in dict.fromkeys(stops) if s]
        self._buffer = ""
        self.stopped = False

    def _partial(self, text: str) -> int:
        best = 0
        for stop in self._stops:
            for k in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:k]):
                    best = k
                    break
        return best

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self._stops:
            return text
        self._buffer += text
        cut = min((i for i in (self._buffer.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self._buffer, self.stopped = self._buffer[:cut], "", True
            return out
        keep = self._partial(self._buffer)
        out, self._buffer = self._buffer[: len(self._buffer) - keep], self._buffer[len(self._buffer) - keep :]
        return out

    def flush(self) -> str:
        out, self._buffer = ("" if self.stopped else self._buffer), ""
        return out


_CJK = re.compile(f"[{CJK_AND_HANGUL}]")


class TokenEstimator:
    """Token counts for servers that expose no tokenizer (Ollama, most OpenAI-compatible servers).

    The raw estimate is deliberately generous: one token per CJK character, one per 3.5 other characters,
    plus 8 tokens of chat-template overhead per message and 8 for the assistant header. After each call the
    server's own prompt count calibrates it (`observe`), so estimates converge on the model's tokenizer but
    never drop below 90% of the raw estimate.
    """

    PER_MESSAGE = 8
    PER_PROMPT = 8

    def __init__(self) -> None:
        self._scale = 1.0

    def raw(self, messages: Sequence[ChatMessage]) -> int:
        total = self.PER_PROMPT
        for m in messages:
            cjk = len(_CJK.findall(m.content))
            total += self.PER_MESSAGE + cjk + int((len(m.content) - cjk) / 3.5 + 0.999)
        return total

    def estimate(self, messages: Sequence[ChatMessage]) -> int:
        return int(self.raw(messages) * self._scale + 0.999)

    def observe(self, messages: Sequence[ChatMessage], actual: int) -> None:
        raw = self.raw(messages)
        if actual > 0 and raw > 32:
            self._scale = max(0.9, 0.5 * self._scale + 0.5 * actual / raw * 1.05)


class BaseLLM(ABC):
    """Shared `generate`/`stream` for all backends. Subclasses yield `Chunk`s from `_chunks`."""

    backend: str = ""
    model_name: str = ""
    serialize = False
    extra_stops: tuple[str, ...] = ()
    _last_count: tuple[tuple[ChatMessage, ...], int] | None = None

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.defaults = default_options(settings)
        self._lock = threading.Lock()

    @property
    def context_window(self) -> int:
        """The configured window (RAG_LLM__CONTEXT_WINDOW), else the model's own."""
        return self.settings.context_window or self._model_window()

    @abstractmethod
    def _model_window(self) -> int:
        """The model's context window in tokens (may load metadata or ask the server)."""

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Prompt tokens by the model's tokenizer. The last count is kept: a prompt is counted once while
        it is fitted to the window, checked before generating and reported in the usage."""
        key = tuple(messages)
        last = self._last_count
        if last is not None and last[0] == key:
            return last[1]
        count = self._count_tokens(messages)
        self._last_count = (key, count)
        return count

    def _calibrated(self, estimator: TokenEstimator, messages: Sequence[ChatMessage], actual: int) -> None:
        """A server reported the prompt's real count: calibrate the estimator, forget the kept count."""
        estimator.observe(messages, actual)
        self._last_count = None

    @abstractmethod
    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int: ...

    @abstractmethod
    def status(self) -> ModelStatus: ...

    def warm_up(self) -> None:
        """Load the model (in-process backends) or check the server; cheap when already done."""
        self.count_tokens([ChatMessage("user", "hi")])

    @abstractmethod
    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        """Run the backend. Stop early once `cancel` is cancelled (which includes its deadline passing);
        `cancel.remaining()` bounds any wait."""

    def check_fits(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> int:
        if not messages:
            raise InvalidInputError("no messages to send to the model", hint="pass at least one user message")
        prompt_tokens = self.count_tokens(messages)
        window = self.context_window
        reserved = options.max_new_tokens
        if prompt_tokens + reserved > window:
            raise ContextOverflow(
                prompt_tokens,
                max(window - reserved, 0),
                hint=f"the window is {window} tokens and {reserved} are reserved for the answer: shorten the "
                "prompt, lower max_new_tokens, or use a larger RAG_LLM__CONTEXT_WINDOW",
            )
        return prompt_tokens

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Generation:
        parts: list[str] = []
        last = Chunk()
        for chunk in self._run(messages, options, cancel, streaming=False):
            parts.append(chunk.text)
            if chunk.finish_reason is not None:
                last = chunk
        return Generation(
            text="".join(parts),
            prompt_tokens=last.prompt_tokens or 0,
            completion_tokens=last.completion_tokens or 0,
            finish_reason=last.finish_reason or "stop",
        )

    def stream(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        for chunk in self.stream_chunks(messages, options, cancel):
            if chunk.text:
                yield chunk.text

    def stream_chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        """Like `stream`, but yields `Chunk`s: text deltas, then one with the finish reason and usage."""
        return self._run(messages, options, cancel, streaming=True)

    def _run(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None,
        cancel: CancelToken | None,
        *,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        """Check, queue, run and post-process one generation; the last chunk carries reason and usage."""
        opts = options or self.defaults
        prompt_tokens = self.check_fits(messages, opts)
        cancel = (cancel or CancelToken()).narrowed(self.settings.timeout_s, self._timeout())
        stops = tuple(dict.fromkeys((*opts.stop, *self.extra_stops)))
        opts = opts.with_(stop=stops)
        with self._queue(cancel) as acquired:
            if not acquired:
                yield Chunk(finish_reason="cancelled", prompt_tokens=prompt_tokens, completion_tokens=0)
                return
            stop_filter = StopFilter(stops)
            finish: Chunk | None = None
            with contextlib.closing(self._chunks(messages, opts, cancel, streaming)) as chunks:
                for chunk in chunks:
                    text = stop_filter.feed(chunk.text) if chunk.text else ""
                    if text:
                        yield Chunk(text=text)
                    if chunk.finish_reason is not None:
                        finish = chunk
                    if stop_filter.stopped:
                        break
            tail = "" if cancel.cancelled else stop_filter.flush()
            if tail:
                yield Chunk(text=tail)
            if stop_filter.stopped:
                reason = "stop"
            elif finish is not None:
                reason = finish.finish_reason or "stop"
            elif cancel.expired:
                raise cancel.timeout_error()
            elif cancel.cancelled:
                reason = "cancelled"
            else:
                reason = "stop"
            yield Chunk(
                finish_reason=reason,
                prompt_tokens=(finish.prompt_tokens if finish and finish.prompt_tokens else prompt_tokens),
                completion_tokens=finish.completion_tokens if finish else None,
            )

    def _timeout(self) -> GenerationTimeout:
        return GenerationTimeout(
            f"generation took longer than {self.settings.timeout_s:g} s (waiting for the model included)",
            hint="raise RAG_LLM__TIMEOUT_S, lower max_new_tokens, use a faster model, or retry when the "
            "model is less busy",
        )

    @contextlib.contextmanager
    def _queue(self, cancel: CancelToken) -> Iterator[bool]:
        """Wait for this model's lock (in-process backends); False when cancelled while waiting."""
        if not self.serialize:
            yield True
            return
        while not self._lock.acquire(timeout=0.05):
            cancel.check()
            if cancel.cancelled:
                yield False
                return
        try:
            yield True
        finally:
            self._lock.release()


def count_text_tokens(llm: LLM, text: str) -> int:
    """The tokens of `text` alone by the LLM's tokenizer: a user message holding it counted less an empty
    one, so the chat template's own tokens cancel out."""
    if not text:
        return 0
    empty = llm.count_tokens([ChatMessage("user", "")])
    return max(0, llm.count_tokens([ChatMessage("user", text)]) - empty)


class CountedStream:
    """The text deltas of one generation; afterwards `completion_tokens`, the tokens generated.

        generation = CountedStream(llm, messages, options, cancel)
        for delta in generation: ...
        generation.completion_tokens

    The count is the backend's own (llama.cpp, Ollama, an OpenAI-compatible server, transformers: the
    generated tokens, the end-of-turn token included). An LLM that only offers `stream` (a wrapper) or a
    server that reports no usage gets the text's tokens counted with the LLM's tokenizer."""

    def __init__(
        self,
        llm: LLM,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self._llm = llm
        self._messages = messages
        self._options = options
        self._cancel = cancel
        self._parts: list[str] = []
        self._reported: int | None = None

    def __iter__(self) -> Iterator[str]:
        llm = self._llm
        if isinstance(llm, BaseLLM) and type(llm).stream is BaseLLM.stream:
            for chunk in llm.stream_chunks(self._messages, self._options, self._cancel):
                if chunk.text:
                    self._parts.append(chunk.text)
                    yield chunk.text
                if chunk.finish_reason is not None:
                    self._reported = chunk.completion_tokens
            return
        for delta in llm.stream(self._messages, self._options, self._cancel):
            self._parts.append(delta)
            yield delta

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def completion_tokens(self) -> int:
        if self._reported is not None:
            return self._reported
        return count_text_tokens(self._llm, self.text)


def describe_error(exc: BaseException) -> str:
    hint = getattr(exc, "hint", "")
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{message} ({hint})" if hint else message
