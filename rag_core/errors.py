"""The project's error tree. Every error a user can see says what went wrong and how to fix it.

RagError
├── ConfigError            bad settings or CLI usage            (CLI exit 2, HTTP 422)
├── NotFoundError          unknown collection, document, job    (HTTP 404)
├── Unauthorized           no or a wrong API key                 (HTTP 401)
├── InvalidInputError      a bad request or question            (HTTP 400/413/422)
│   └── LimitExceeded          over a size or count limit        (HTTP 413)
├── DocumentError          one input file cannot be ingested    (reported per file, run goes on)
├── BackendError           a model or store is not usable       (HTTP 503)
│   ├── BackendUnavailable     server down, package missing
│   ├── ModelNotFound          model not pulled / path wrong
│   └── VectorStoreError       Chroma failed
├── ContextOverflow        prompt longer than the model's window (HTTP 422)
├── GenerationTimeout      the model took too long               (HTTP 504)
├── RequestTimeout         a request ran past its deadline       (HTTP 408)
└── StageError             a pipeline stage failed; wraps the cause with the stage name
"""

from __future__ import annotations


class RagError(Exception):
    """Base class. `hint` tells the user what to do about it."""

    http_status = 500
    kind = "internal_error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(RagError):
    http_status = 422
    kind = "config_error"


class NotFoundError(RagError):
    http_status = 404
    kind = "not_found"


class InvalidInputError(RagError):
    http_status = 400
    kind = "invalid_request"

    def __init__(self, message: str, *, hint: str = "", http_status: int = 400) -> None:
        super().__init__(message, hint=hint)
        self.http_status = http_status


class LimitExceeded(InvalidInputError):
    kind = "limit_exceeded"

    def __init__(self, message: str, *, hint: str = "", http_status: int = 413) -> None:
        super().__init__(message, hint=hint, http_status=http_status)


class Unauthorized(RagError):
    http_status = 401
    kind = "unauthorized"


class DocumentError(RagError):
    """One file cannot be ingested. `skipped` marks inputs that are not errors (empty, unsupported)."""

    http_status = 422
    kind = "document_error"

    def __init__(self, message: str, *, hint: str = "", skipped: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.skipped = skipped


class BackendError(RagError):
    http_status = 503
    kind = "backend_unavailable"


class BackendUnavailable(BackendError):
    pass


class ModelNotFound(BackendError):
    kind = "model_not_found"


class VectorStoreError(BackendError):
    kind = "vector_store_unavailable"


class ContextOverflow(RagError):
    http_status = 422
    kind = "context_overflow"

    def __init__(self, prompt_tokens: int, limit: int, *, hint: str = "") -> None:
        super().__init__(
            f"prompt has {prompt_tokens} tokens but the model's context window allows {limit}",
            hint=hint or "shorten the input, or configure a model with a larger context window",
        )
        self.prompt_tokens = prompt_tokens
        self.limit = limit


class GenerationTimeout(RagError):
    http_status = 504
    kind = "timeout"


class RequestTimeout(RagError):
    http_status = 408
    kind = "request_timeout"


class StageError(RagError):
    """A pipeline stage failed. Keeps the cause's status and kind, prefixes the stage name."""

    def __init__(self, stage: str, cause: Exception) -> None:
        message = cause.message if isinstance(cause, RagError) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{stage}: {message}", hint=getattr(cause, "hint", ""))
        self.stage = stage
        self.cause = cause
        if isinstance(cause, RagError):
            self.http_status = cause.http_status
            self.kind = cause.kind
