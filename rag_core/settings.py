"""One settings tree for everything: env vars `RAG_...` (nested with `__`), an optional TOML file, defaults.

Precedence: explicit arguments > environment > config file (`RAG_CONFIG`, else `./rag.toml`) > defaults.

    RAG_DATA_DIR=/srv/rag RAG_LLM__BACKEND=ollama RAG_LLM__MODEL=llama3 rag ask "..."

Unknown keys are errors, never ignored: a `RAG_*` variable that names no setting (other than those in
`NOT_SETTINGS`) or a config-file key that names none raises `ConfigError`, naming the key, where it came
from and the closest valid name (`RAG_LLM__BACKNED` -> "did you mean RAG_LLM__BACKEND?").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from rag_core.errors import ConfigError
from rag_core.query_settings import AnswerSettings, RerankSettings, RetrievalSettings
from rag_core.setting_names import NOT_SETTINGS, Section, unknown_env_vars, unknown_file_keys

LLMBackend = Literal["llamacpp", "ollama", "transformers", "openai"]


class EmbeddingSettings(Section):
    model: str = Field(
        "",
        description="sentence-transformers model id or local path; empty or multilingual-e5-small = the "
        "bundled multilingual model (offline; Chinese, English and across them); all-MiniLM-L6-v2 = the "
        "bundled English model (offline, about 2x faster on CPU). Online: e.g. BAAI/bge-m3 or "
        "intfloat/multilingual-e5-base.",
    )
    model_dir: str = Field(
        "",
        description="where the bundled multilingual model is converted to on first use (about 470 MB, "
        "seconds); empty = DATA_DIR/models. Several data dirs can share one.",
    )
    device: str = Field("cpu", description="torch device: cpu, cuda, cuda:1, mps or auto")
    batch_size: int = Field(64, ge=1, description="texts per embedding batch")
    cjk: bool | None = Field(
        None,
        description="whether the model was trained on Chinese/Japanese text; None = no for the bundled "
        "English all-MiniLM-L6-v2, yes for any other. Dense search is not trusted for CJK "
        "questions when no.",
    )
    query_prefix: str = Field("", description="prepended to queries (e5: 'query: ', bge: an instruction)")
    document_prefix: str = Field("", description="prepended to passages (e5: 'passage: ')")


class LLMSettings(Section):
    backend: LLMBackend = Field("llamacpp", description="llamacpp | ollama | transformers | openai")
    model: str = Field(
        "",
        description="GGUF path (llamacpp), Ollama name such as llama3 (ollama), HF id or path "
        "(transformers), served model name (openai); empty = the bundled SmolLM2-135M-Instruct GGUF",
    )
    base_url: str = Field("", description="server URL for ollama/openai; empty = the backend's default")
    api_key: SecretStr | None = Field(None, description="API key for an OpenAI-compatible server")
    context_window: int = Field(0, ge=0, description="tokens; 0 = read it from the model")
    threads: int = Field(0, ge=0, description="CPU threads for llamacpp; 0 = all cores")
    gpu_layers: int = Field(0, description="layers offloaded to the GPU (llamacpp); -1 = all")
    device: str = Field("auto", description="transformers: auto (CUDA when present), cpu, cuda")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field("auto", description="transformers dtype")
    quantization: Literal["none", "8bit", "4bit"] = Field("none", description="bitsandbytes loading (CUDA)")
    adapter_path: str = Field("", description="LoRA adapter directory (peft) for the transformers backend")
    gguf_file: str = Field("", description="transformers: GGUF file name inside `model` to load")
    chat_template: str = Field(
        "",
        description="override the model's chat template: a Jinja template string (llamacpp, transformers) "
        "or a llama.cpp built-in name such as llama3 or chatml (llamacpp); empty = the model's own",
    )
    log_verbosity: int = Field(
        1,
        description="llama.cpp stderr log level (llamacpp): -1 silent, 1 errors, 2 warnings, 3 info, 4 debug",
    )
    temperature: float = Field(0.1, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    top_k: int = Field(40, ge=0)
    repetition_penalty: float = Field(
        1.0, gt=0, description="1.0 = off; penalties above 1 stop small models from copying the sources"
    )
    max_new_tokens: int = Field(384, ge=1)
    seed: int | None = Field(None, description="sampling seed; set it for reproducible answers")
    timeout_s: float = Field(300, gt=0, description="max seconds for one generation")


class ChromaSettings(Section):
    url: str = Field("", description="Chroma server URL (http://host:8000); empty = embedded in the data dir")
    tenant: str = Field("default_tenant")
    database: str = Field("default_database")


class DatabaseSettings(Section):
    url: str = Field(
        "",
        description="PostgreSQL server for the catalog, BM25 index and conversations "
        "(postgresql://user:password@host:5432/db), shared by replicas on several hosts; empty = SQLite "
        "files in the data dir",
    )

    @field_validator("url")
    @classmethod
    def _postgres(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL, or empty for SQLite in the data dir")
        return value


class ChunkingSettings(Section):
    chunk_tokens: int = Field(
        128, ge=16, le=8192, description="target chunk size in embedder tokens (MiniLM embeds at most 256)"
    )
    cjk_chunk_tokens: int = Field(
        256,
        ge=16,
        le=8192,
        description="chunk size for mostly Chinese/Japanese sections (about 1 token/char)",
    )
    overlap_tokens: int = Field(24, ge=0, description="tokens shared by consecutive chunks of one section")
    min_chunk_tokens: int = Field(24, ge=1, description="smaller fragments are merged into a neighbour")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.overlap_tokens >= min(self.chunk_tokens, self.cjk_chunk_tokens):
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than chunk_tokens "
                f"({self.chunk_tokens}) and cjk_chunk_tokens ({self.cjk_chunk_tokens})"
            )
        return self


class SummarySettings(Section):
    strategy: Literal["extractive", "llm"] = Field(
        "extractive", description="extractive (no LLM, fast) or llm (written by the configured LLM)"
    )
    max_tokens: int = Field(160, ge=16, description="summary length budget in embedder tokens")
    llm_part_tokens: int = Field(1500, ge=128, description="llm: long documents are summarised in parts")
    vector: Literal["centroid", "text"] = Field(
        "centroid",
        description="summary-level vector: centroid = mean of the document's chunk vectors (no extra "
        "embedding), text = the summary text embedded",
    )


class IngestSettings(Section):
    max_file_mb: float = Field(200, gt=0, description="larger files are skipped with a reason")
    include_hidden: bool = Field(False, description="walk into hidden files and folders")
    write_batch: int = Field(512, ge=1, description="chunks embedded and written per batch")


class ApiSettings(Section):
    max_upload_mb: float = Field(50, gt=0, description="largest upload request (all files), in MB")
    max_files: int = Field(20, ge=1, description="files per upload request")
    max_question_chars: int = Field(
        2000, ge=1, description="longest question accepted (the API, rag ask, every caller of the pipeline)"
    )
    request_timeout_s: float = Field(300, gt=0, description="max seconds for one query or chat request")
    allow_public_bind: bool = Field(
        False, description="let `rag serve` bind a non-loopback address with no API keys configured"
    )
    background_files: int = Field(1, ge=0, description="uploads of more files than this run as a job")
    background_mb: float = Field(1, ge=0, description="uploads larger than this (MB) run as a job")
    history_messages: int = Field(6, ge=0, description="earlier messages used to rewrite a follow-up")
    warm_up: bool = Field(True, description="load the embedder and the LLM when the server starts")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("rag", appauthor=False)),
        description="where the index, manifest, uploads and conversations live",
    )
    collection: str = Field("default", description="collection used when none is named")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="API keys; empty = no auth (loopback only)"
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)  # type: ignore[arg-type]
    llm: LLMSettings = Field(default_factory=LLMSettings)  # type: ignore[arg-type]
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)  # type: ignore[arg-type]
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)  # type: ignore[arg-type]
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)  # type: ignore[arg-type]
    summary: SummarySettings = Field(default_factory=SummarySettings)  # type: ignore[arg-type]
    ingest: IngestSettings = Field(default_factory=IngestSettings)  # type: ignore[arg-type]
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)  # type: ignore[arg-type]
    rerank: RerankSettings = Field(default_factory=RerankSettings)  # type: ignore[arg-type]
    answer: AnswerSettings = Field(default_factory=AnswerSettings)  # type: ignore[arg-type]
    api: ApiSettings = Field(default_factory=ApiSettings)  # type: ignore[arg-type]

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def database_at(self, file: str) -> Path | str:
        """Where a store lives: the PostgreSQL server when one is set, else `file` in the data dir."""
        return self.database.url or self.data_dir / file

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        problems = unknown_env_vars(settings_cls, os.environ)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = config_path()
        if config_file is not None:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file)
            problems += unknown_file_keys(settings_cls, toml.toml_data, config_file.resolve())
            sources.append(toml)
        if problems:
            raise ConfigError(
                f"unknown setting{'s' if len(problems) > 1 else ''}: {'; '.join(problems)}",
                hint="fix the name or remove it; every RAG_* variable except "
                f"{', '.join(sorted(NOT_SETTINGS))} and every key of the config file must name a setting",
            )
        return tuple(sources)


def config_path() -> Path | None:
    named = os.environ.get("RAG_CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {path} (from RAG_CONFIG) does not exist", hint="fix RAG_CONFIG")
        return path
    local = Path("rag.toml")
    return local if local.is_file() else None


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one ConfigError that names each bad field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: "
            + ("unknown setting" if err["type"] == "extra_forbidden" else err["msg"])
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings: {problems}",
            hint="check the RAG_* environment variables and the config file",
        ) from None
    except (SettingsError, ValueError) as exc:  # ValueError: malformed TOML (TOMLDecodeError)
        raise ConfigError(
            str(exc), hint="check the RAG_* environment variables and the config file"
        ) from None
