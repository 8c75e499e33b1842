"""The settings tree: RAG_ env vars nested with `__`, a TOML file (RAG_CONFIG or ./rag.toml), validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_core.errors import ConfigError
from rag_core.settings import Settings, load_settings


@pytest.mark.default_embedder
def test_defaults(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_env.resolve()
    assert settings.collection == "default"
    assert settings.api_keys == []
    assert settings.llm.backend == "llamacpp" and settings.llm.model == ""
    assert settings.embedding.model == "" and settings.chroma.url == ""
    assert 0 <= settings.chunking.overlap_tokens < settings.chunking.chunk_tokens
    assert settings.summary.strategy == "extractive"


def test_default_data_dir_is_a_per_user_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAG_DATA_DIR")
    data_dir = load_settings().data_dir
    assert data_dir.is_absolute() and data_dir.name == "rag"
    assert Path(__file__).resolve().parents[1] not in data_dir.parents  # never inside the package


def test_env_vars_with_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "RAG_DATA_DIR": "~/rag-test-data",
        "RAG_COLLECTION": "产品手册",
        "RAG_LLM__BACKEND": "ollama",
        "RAG_LLM__MODEL": "llama3",
        "RAG_LLM__TEMPERATURE": "0.5",
        "RAG_LLM__API_KEY": "sk-secret",
        "RAG_EMBEDDING__MODEL": "BAAI/bge-m3",
        "RAG_EMBEDDING__BATCH_SIZE": "8",
        "RAG_CHROMA__URL": "http://chroma.local:8000",
        "RAG_CHUNKING__CHUNK_TOKENS": "96",
        "RAG_INGEST__INCLUDE_HIDDEN": "true",
        "RAG_SUMMARY__STRATEGY": "llm",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.data_dir == Path("~/rag-test-data").expanduser().resolve()
    assert settings.collection == "产品手册"
    assert (settings.llm.backend, settings.llm.model, settings.llm.temperature) == ("ollama", "llama3", 0.5)
    assert settings.llm.api_key is not None and settings.llm.api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(settings) and "sk-secret" not in str(settings.model_dump())
    assert (settings.embedding.model, settings.embedding.batch_size) == ("BAAI/bge-m3", 8)
    assert settings.chroma.url == "http://chroma.local:8000"
    assert settings.chunking.chunk_tokens == 96
    assert settings.ingest.include_hidden is True
    assert settings.summary.strategy == "llm"
    # other variables without the prefix are ignored
    monkeypatch.setenv("LLM__BACKEND", "openai")
    assert load_settings().llm.backend == "ollama"


@pytest.mark.parametrize(
    ("value", "keys"),
    [("k1", ["k1"]), ("k1,k2", ["k1", "k2"]), (" k1 , k2 ,, ", ["k1", "k2"]), ("", [])],
)
def test_api_keys_comma_list(monkeypatch: pytest.MonkeyPatch, value: str, keys: list[str]) -> None:
    monkeypatch.setenv("RAG_API_KEYS", value)
    assert load_settings().api_keys == keys


def test_explicit_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_COLLECTION", "from-env")
    assert load_settings(collection="explicit").collection == "explicit"


CONFIG = """
collection = "handbook"
api_keys = ["alpha", "beta"]

[llm]
backend = "openai"
model = "llama-3-8b-instruct"
base_url = "http://localhost:8080/v1"

[chunking]
chunk_tokens = 300
overlap_tokens = 40
"""


def test_toml_config_file_via_rag_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "rag.toml"
    path.parent.mkdir()
    path.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    settings = load_settings()
    assert settings.collection == "handbook" and settings.api_keys == ["alpha", "beta"]
    assert (settings.llm.backend, settings.llm.model) == ("openai", "llama-3-8b-instruct")
    assert settings.llm.base_url == "http://localhost:8080/v1"
    assert (settings.chunking.chunk_tokens, settings.chunking.overlap_tokens) == (300, 40)

    # env beats the file, field by field inside a nested section
    monkeypatch.setenv("RAG_CHUNKING__CHUNK_TOKENS", "100")
    monkeypatch.setenv("RAG_LLM__BACKEND", "ollama")
    settings = load_settings()
    assert (settings.chunking.chunk_tokens, settings.chunking.overlap_tokens) == (100, 40)
    assert (settings.llm.backend, settings.llm.model) == ("ollama", "llama-3-8b-instruct")


def test_rag_toml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "rag.toml").write_text('collection = "local"\n', encoding="utf-8")
    assert load_settings().collection == "local"  # tests run in tmp_path


def test_missing_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "absent.toml" in str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("RAG_LLM__BACKEND", "foo", "llm.backend"),
        ("RAG_CHUNKING__CHUNK_TOKENS", "lots", "chunking.chunk_tokens"),
        ("RAG_CHUNKING__CHUNK_TOKENS", "8", "chunking.chunk_tokens"),
        ("RAG_LLM__TEMPERATURE", "3", "llm.temperature"),
        ("RAG_EMBEDDING__BATCH_SIZE", "0", "embedding.batch_size"),
        ("RAG_SUMMARY__STRATEGY", "abstractive", "summary.strategy"),
        ("RAG_INGEST__INCLUDE_HIDDEN", "perhaps", "ingest.include_hidden"),
        ("RAG_INGEST__MAX_FILE_MB", "-1", "ingest.max_file_mb"),
    ],
)
def test_invalid_env_value_names_the_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert field in error.value.message
    assert "RAG_" in error.value.hint


def test_invalid_config_file_value_names_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[retrieval]\ntop_k = "five"\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "retrieval.top_k" in error.value.message


def test_malformed_config_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('collection = "unterminated\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    with pytest.raises(ConfigError):
        load_settings()


def test_overlap_must_be_smaller_than_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHUNKING__CHUNK_TOKENS", "32")
    monkeypatch.setenv("RAG_CHUNKING__OVERLAP_TOKENS", "32")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "overlap_tokens" in error.value.message


def test_settings_build_without_the_environment(tmp_path: Path) -> None:
    """Tests and the API factory build their own settings; nothing is read at import time."""
    settings = Settings(data_dir=tmp_path / "elsewhere", collection="mine")
    assert settings.data_dir == (tmp_path / "elsewhere").resolve() and settings.collection == "mine"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("RAG_LLM__BACKNED", "RAG_LLM__BACKEND"),  # a misspelled key of a section
        ("RAG_LMM__MODEL", "RAG_LLM__MODEL"),  # a misspelled section
        ("RAG_LLM_BACKEND", "RAG_LLM__BACKEND"),  # one underscore instead of two
        ("RAG_COLECTION", "RAG_COLLECTION"),  # a top-level setting
        ("RAG_RETRIEVAL__TEMPERATURE", "RAG_LLM__TEMPERATURE"),  # a key of another section
        ("RAG_API_KEY", "RAG_API_KEYS"),
        ("RAG_DATA_DIR__PATH", "RAG_DATA_DIR"),  # a plain setting has no keys below it
        ("rag_llm__modle", "RAG_LLM__MODEL"),  # names are read case-insensitively
    ],
)
def test_unknown_env_var_is_an_error_naming_it_and_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, suggestion: str
) -> None:
    monkeypatch.setenv(name, "ollama")
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = error.value.message
    assert f"{name} (environment variable): did you mean {suggestion}?" in message
    assert message.count("did you mean") == 1


def test_unknown_env_var_without_a_close_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_WIDGETS", "3")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "RAG_WIDGETS (environment variable)" in error.value.message
    assert "did you mean" not in error.value.message
    assert "RAG_CONFIG" in error.value.hint  # the variables that are allowed without being settings


def test_a_misspelled_backend_never_falls_back_to_the_bundled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The finding of issue 20: the typo used to be ignored and the bundled model answered."""
    monkeypatch.setenv("RAG_LLM__BACKNED", "ollama")
    monkeypatch.setenv("RAG_LLM__MODEL", "llama3")
    with pytest.raises(ConfigError):
        load_settings()
    with pytest.raises(ConfigError):
        Settings()  # the check is in the settings class, not only in load_settings


def test_variables_that_are_not_settings_are_allowed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "conf.toml"
    path.write_text('[llm]\nbackend = "ollama"\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    monkeypatch.setenv("RAG_DEBUG", "1")  # the CLI's traceback switch
    for name in ("RAG_PORT", "RAG_GPU_PORT", "RAG_HF_MODEL"):  # read by docker-compose.yml on the host
        monkeypatch.setenv(name, "8000")
    monkeypatch.setenv("RAG_LLM__MODEL", "llama3")
    monkeypatch.setenv("rag_llm__temperature", "0.3")
    monkeypatch.setenv("RAGTIME", "yes")  # not the prefix
    settings = load_settings()
    assert (settings.llm.backend, settings.llm.model, settings.llm.temperature) == ("ollama", "llama3", 0.3)


def test_every_setting_is_a_valid_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """No valid name is taken for a typo: one variable per setting, each at its default, is accepted."""
    defaults = Settings()
    for section in ("embedding", "llm", "chroma", "chunking", "summary", "ingest", "retrieval", "rerank"):
        for field, value in getattr(defaults, section).model_dump(mode="json").items():
            if value is not None:
                monkeypatch.setenv(f"RAG_{section.upper()}__{field.upper()}", str(value).lower())
    monkeypatch.setenv("RAG_API__MAX_FILES", "7")
    monkeypatch.setenv("RAG_COLLECTION", "kb")
    settings = load_settings()
    assert (settings.api.max_files, settings.collection) == (7, "kb")
    assert settings.retrieval == defaults.retrieval and settings.chunking == defaults.chunking


TYPOS = """
colection = "handbook"

[llm]
backned = "ollama"
model = "llama3"

[retreival]
top_k = 3

[rerank]
temperature = 0.2
"""


def test_unknown_config_file_keys_are_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "typos.toml"
    path.write_text(TYPOS, encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    with pytest.raises(ConfigError) as error:
        load_settings()
    problems = error.value.message.removeprefix("unknown settings: ").split("; ")
    where = f"in config file {path.resolve()}"
    assert problems == [
        f"colection {where}: did you mean collection?",
        f"backned under [llm] {where}: did you mean backend?",
        f"[retreival] {where}: did you mean [retrieval]?",
        f"temperature under [rerank] {where}: did you mean temperature under [llm]?",
    ]


def test_unknown_key_in_rag_toml_of_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "rag.toml").write_text('[llm]\nbackned = "ollama"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert f"backned under [llm] in config file {(tmp_path / 'rag.toml').resolve()}" in error.value.message


def test_env_and_file_typos_are_reported_together(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "rag.toml").write_text("[chunking]\nchunk_tokns = 100\n", encoding="utf-8")
    monkeypatch.setenv("RAG_LLM__BACKNED", "ollama")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "RAG_LLM__BACKNED" in error.value.message and "chunk_tokns" in error.value.message


def test_unknown_keys_in_json_values_and_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM", '{"backend": "ollama", "modle": "llama3"}')
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "llm.modle: unknown setting" in error.value.message
    monkeypatch.delenv("RAG_LLM")
    with pytest.raises(ConfigError) as error:
        load_settings(colection="kb")
    assert "colection: unknown setting" in error.value.message
