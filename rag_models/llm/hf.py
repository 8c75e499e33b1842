"""Hugging Face transformers models in-process: a model id (`meta-llama/Meta-Llama-3-8B-Instruct`), a local
directory, or a GGUF file (dequantised by transformers). CUDA when present, else CPU; optional 8/4-bit
loading (bitsandbytes, CUDA only) and a LoRA adapter (peft).

Generation stops on the tokenizer's eos, the generation config's eos ids and the end-of-turn tokens the
vocabulary has (Llama-3: `<|end_of_text|>` and `<|eot_id|>`). `model.generate` runs in one long-lived
worker thread per model, feeding a `TextIteratorStreamer`; cancellation, timeouts and stop sequences end it
through a `StoppingCriteria`. The thread is kept because CUDA work in a fresh thread pays a per-thread
set-up (about 3.5 s per answer on an H100, measured: docs/gpu.md); `warm_up` pays it once, up front.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from rag_core.cancel import CancelToken
from rag_core.errors import BackendError, BackendUnavailable, ConfigError, ModelNotFound
from rag_core.settings import LLMSettings
from rag_models import bundled
from rag_models.llm.base import ChatMessage, GenerationOptions, ModelStatus
from rag_models.llm.common import END_OF_TURN_MARKERS, BaseLLM, Chunk, as_dicts
from rag_models.llm.gguf_meta import read_metadata, trained_context

FALLBACK_WINDOW = 4096
DOWNLOAD_HINT = (
    "check the model id or path; download it first (`hf download ID`; meta-llama models need their license "
    "accepted and HF_TOKEN set), or unset HF_HUB_OFFLINE to let transformers download it"
)


def resolve_model(settings: LLMSettings) -> tuple[str, str | None]:
    """(model id or directory, GGUF file name inside it or None)."""
    if not settings.model:
        path = bundled.smollm2_gguf()
        return str(path.parent), path.name
    if settings.model.endswith(".gguf"):
        path = Path(settings.model).expanduser()
        return str(path.parent), path.name
    return settings.model, settings.gguf_file or None


class TransformersLLM(BaseLLM):
    backend = "transformers"
    serialize = True
    extra_stops = END_OF_TURN_MARKERS

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings)
        self.model_ref, self.gguf_file = resolve_model(settings)
        self.model_name = settings.model or f"{bundled.SMOLLM2_GGUF} (bundled)"
        self.model: Any = None
        self.tokenizer: Any = None
        self.device = ""
        self.terminators: list[int] = []
        self._load_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transformers-generate")

    def _pick_device(self, torch: Any) -> str:
        if self.settings.device != "auto":
            return self.settings.device
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if torch.backends.mps.is_available() else "cpu"

    def _pick_dtype(self, torch: Any, device: str) -> Any:
        if self.settings.dtype != "auto":
            return getattr(torch, self.settings.dtype)
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device == "mps" else torch.float32

    def _quantization(self, transformers: Any, device: str, dtype: Any) -> Any:
        mode = self.settings.quantization
        if mode == "none":
            return None
        if self.gguf_file:
            raise ConfigError(
                f"{mode} loading does not apply to a GGUF file ({self.gguf_file}): its weights are quantized "
                "already, and transformers dequantizes them",
                hint="run GGUF files with RAG_LLM__BACKEND=llamacpp, or set RAG_LLM__MODEL to a Hugging Face "
                "model id or directory (safetensors) for 8/4-bit loading",
            )
        if not device.startswith("cuda"):
            raise ConfigError(
                f"{mode} loading needs a CUDA GPU (device is {device})", hint="set RAG_LLM__QUANTIZATION=none"
            )
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise BackendUnavailable(
                f"{mode} loading needs bitsandbytes", hint="pip install bitsandbytes"
            ) from None
        if mode == "8bit":
            return transformers.BitsAndBytesConfig(load_in_8bit=True)
        return transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
        )

    def _load(self) -> tuple[Any, Any]:
        with self._load_lock:
            if self.model is not None:
                return self.model, self.tokenizer
            import torch
            import transformers

            device = self._pick_device(torch)
            dtype = self._pick_dtype(torch, device)
            quantization = self._quantization(transformers, device, dtype)
            kwargs: dict[str, Any] = {"dtype": dtype}
            if self.gguf_file:
                kwargs["gguf_file"] = self.gguf_file
            if quantization is not None:
                kwargs.update(quantization_config=quantization, device_map={"": device})
            try:
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    self.model_ref, gguf_file=self.gguf_file
                )
                model = transformers.AutoModelForCausalLM.from_pretrained(self.model_ref, **kwargs)
            except OSError as exc:
                raise ModelNotFound(f"cannot load {self.model_name!r}: {exc}", hint=DOWNLOAD_HINT) from None
            if quantization is None:
                model = model.to(device)  # type: ignore[arg-type]
            model = self._with_adapter(model)
            model.eval()
            if self.settings.chat_template:
                tokenizer.chat_template = self.settings.chat_template
            if not tokenizer.chat_template:
                raise ConfigError(
                    f"{self.model_name!r} has no chat template (a base model, not an instruct model?)",
                    hint="use an instruct model, or set RAG_LLM__CHAT_TEMPLATE",
                )
            self.device = device
            self.terminators = _terminators(tokenizer, model)
            self.model, self.tokenizer = model, tokenizer
            return model, tokenizer

    def _with_adapter(self, model: Any) -> Any:
        if not self.settings.adapter_path:
            return model
        adapter = Path(self.settings.adapter_path).expanduser()
        if not (adapter / "adapter_config.json").is_file():
            raise ModelNotFound(
                f"no LoRA adapter at {adapter} (adapter_config.json missing)",
                hint="set RAG_LLM__ADAPTER_PATH to a directory saved by peft's save_pretrained",
            )
        try:
            from peft import PeftModel
        except ImportError:
            raise BackendUnavailable("LoRA adapters need peft", hint="pip install peft") from None
        return PeftModel.from_pretrained(model, str(adapter))

    def warm_up(self) -> None:
        model, _ = self._load()
        import torch

        def one_token() -> None:
            with torch.inference_mode():
                token = torch.tensor([[self.terminators[0]]], device=model.device)
                model.generate(
                    input_ids=token,
                    attention_mask=torch.ones_like(token),
                    max_new_tokens=1,
                    pad_token_id=self.terminators[0],
                )

        self._worker.submit(one_token).result()

    def _model_window(self) -> int:
        if self.model is not None:
            return int(getattr(self.model.config, "max_position_embeddings", 0) or FALLBACK_WINDOW)
        return self._configured_window() or FALLBACK_WINDOW

    def _local_file(self, name: str) -> Path | None:
        local = Path(self.model_ref).expanduser()
        if local.is_dir():
            return local / name if (local / name).is_file() else None
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            return None
        cached = try_to_load_from_cache(self.model_ref, name)
        return Path(cached) if isinstance(cached, str) else None

    def _configured_window(self) -> int:
        """The trained context from the GGUF header or config.json, without loading the model."""
        if self.gguf_file:
            path = self._local_file(self.gguf_file)
            return trained_context(read_metadata(path)) if path else 0
        path = self._local_file("config.json")
        if path is None:
            return 0
        config = json.loads(path.read_text(encoding="utf-8"))
        return int(
            config.get("max_position_embeddings")
            or config.get("text_config", {}).get("max_position_embeddings")
            or 0
        )

    def encode(self, messages: Sequence[ChatMessage]) -> list[int]:
        _, tokenizer = self._load()
        with self._tokenizer_lock:
            encoded = tokenizer.apply_chat_template(
                as_dicts(messages), add_generation_prompt=True, tokenize=True, return_dict=True
            )
        return list(encoded["input_ids"])

    def _count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self.encode(messages))

    def render_prompt(self, messages: Sequence[ChatMessage]) -> str:
        _, tokenizer = self._load()
        with self._tokenizer_lock:
            rendered = tokenizer.apply_chat_template(
                as_dicts(messages), add_generation_prompt=True, tokenize=False
            )
        return str(rendered)

    def status(self) -> ModelStatus:
        if self.model is not None:
            detail = f"loaded on {self.device}"
            if self.settings.adapter_path:
                detail += f" with adapter {self.settings.adapter_path}"
            return ModelStatus(self.backend, self.model_name, True, detail, self.context_window)
        found = self._local_file(self.gguf_file or "config.json")
        if found is None:
            where = (
                self.model_ref
                if Path(self.model_ref).expanduser().is_dir()
                else "the local Hugging Face cache"
            )
            detail = f"{self.gguf_file or 'config.json'} not found in {where} ({DOWNLOAD_HINT})"
            return ModelStatus(self.backend, self.model_name, False, detail)
        return ModelStatus(
            self.backend, self.model_name, True, f"{found}; loads on first use", self.context_window
        )

    def _generation_kwargs(self, options: GenerationOptions) -> dict[str, Any]:
        pad = self.tokenizer.pad_token_id
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "repetition_penalty": options.repetition_penalty,
            "eos_token_id": self.terminators,
            "pad_token_id": self.terminators[0] if pad is None else pad,
        }
        if options.temperature > 0:
            kwargs.update(
                do_sample=True,
                temperature=options.temperature,
                top_p=options.top_p,
                top_k=options.top_k or None,
            )
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _chunks(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions,
        cancel: CancelToken,
        streaming: bool,
    ) -> Generator[Chunk, None, None]:
        import torch
        import transformers

        model, tokenizer = self._load()
        prompt = self.encode(messages)
        abandon = threading.Event()

        class Interrupt(transformers.StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                stop = abandon.is_set() or cancel.cancelled
                return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

        streamer = _locked_streamer(transformers, self._tokenizer_lock)(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=0.1
        )
        result: dict[str, Any] = {}
        input_ids = torch.tensor([prompt], device=model.device)

        def work() -> None:
            try:
                with torch.inference_mode():
                    if options.seed is not None:
                        torch.manual_seed(options.seed)
                    result["output"] = model.generate(
                        input_ids=input_ids,
                        attention_mask=torch.ones_like(input_ids),
                        streamer=streamer,
                        stopping_criteria=transformers.StoppingCriteriaList([Interrupt()]),
                        **self._generation_kwargs(options),
                    )
            except Exception as exc:
                result["error"] = exc
                streamer.end()

        job = self._worker.submit(work)
        try:
            while True:
                try:
                    text = next(streamer)
                except StopIteration:
                    break
                except queue.Empty:
                    if cancel.cancelled:
                        return
                    continue
                if cancel.cancelled:
                    return
                if text:
                    yield Chunk(text=text)
            job.result()
            if "error" in result:
                raise BackendError(
                    f"transformers generation failed: {result['error']}",
                    hint="out of memory? use a smaller model, RAG_LLM__QUANTIZATION=4bit or a shorter prompt",
                ) from result["error"]
            if cancel.cancelled:
                return
            new = result["output"][0][len(prompt) :].tolist()
            ended = bool(new) and new[-1] in self.terminators
            reason = "length" if len(new) >= options.max_new_tokens and not ended else "stop"
            yield Chunk(
                finish_reason=reason, prompt_tokens=len(prompt), completion_tokens=len(new) - int(ended)
            )
        finally:
            abandon.set()
            wait([job], timeout=max(cancel.remaining(), 1.0))


def _terminators(tokenizer: Any, model: Any) -> list[int]:
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    configured = getattr(model.generation_config, "eos_token_id", None)
    for value in configured if isinstance(configured, list) else [configured]:
        if isinstance(value, int):
            ids.append(value)
    vocab = tokenizer.get_vocab()
    ids.extend(vocab[marker] for marker in END_OF_TURN_MARKERS if marker in vocab)
    return list(dict.fromkeys(ids))


def _locked_streamer(transformers: Any, lock: threading.Lock) -> Any:
    """A TextIteratorStreamer that decodes under the tokenizer lock: a fast tokenizer used from two threads
    at once (counting tokens while a generation streams) can fail with "Already borrowed"."""

    class LockedStreamer(transformers.TextIteratorStreamer):  # type: ignore[misc]
        def put(self, value: Any) -> None:
            with lock:
                super().put(value)

        def end(self) -> None:
            with lock:
                super().end()

    return LockedStreamer
