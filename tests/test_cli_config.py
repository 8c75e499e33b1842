"""The `rag` command with bad settings (exit 2 naming the key; the server never starts), and `rag models`
saying where each model comes from and whether it is available offline (issue 20)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from rag_core.errors import ConfigError
from tests.helpers import rag_executable
from tests.servers import free_port

pytestmark = pytest.mark.slow


def rag(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [str(rag_executable()), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def test_misspelled_variable_exits_2_naming_it(tmp_path: Path) -> None:
    for command in (["models"], ["ask", "What is covered?"], ["ingest", str(tmp_path)]):
        result = rag(*command, env={"RAG_LLM__BACKNED": "ollama", "RAG_LLM__MODEL": "llama3"})
        assert result.returncode == 2, result.stderr
        assert "RAG_LLM__BACKNED (environment variable): did you mean RAG_LLM__BACKEND?" in result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr


def test_misspelled_config_key_exits_2_and_the_server_never_starts(tmp_path: Path) -> None:
    config = tmp_path / "rag.toml"
    config.write_text('[llm]\nbackned = "ollama"\nmodel = "llama3"\n', encoding="utf-8")
    port = free_port()
    result = rag("serve", "--port", str(port), cwd=tmp_path)  # ./rag.toml of the working directory
    assert result.returncode == 2, result.stderr
    assert f"backned under [llm] in config file {config.resolve()}: did you mean backend?" in result.stderr
    assert "serving" not in result.stderr


def test_the_api_factory_refuses_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__TOPK", "3")
    with pytest.raises(ConfigError) as error:
        create_app()
    assert "did you mean RAG_RETRIEVAL__TOP_K?" in error.value.message


def models_json(env: dict[str, str] | None = None) -> Any:
    result = rag("models", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_models_default_is_bundled_and_offline() -> None:
    data = models_json()
    assert data["llm"]["ready"] is True
    assert data["llm"]["available"]["where"] == "bundled" and data["llm"]["available"]["offline"] is True
    assert data["llm"]["available"]["detail"].endswith(".gguf")
    assert data["embedding"]["available"]["where"] == "bundled"
    assert Path(data["embedding"]["available"]["detail"]).is_dir()
    assert data["reranker"]["available"] == {
        "where": "built-in",
        "offline": True,
        "detail": "the lexical + dense sentence reranker",
    }
    text = rag("models").stdout
    assert "bundled, available offline" in text and "built in, no model file" in text


def fake_hf_cache(root: Path, repo: str, files: list[str]) -> Path:
    """A Hugging Face hub cache in its on-disk layout (models--org--name/refs/main, snapshots/REV/...)."""
    folder = root / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0123abcd", encoding="utf-8")
    for name in files:
        (snapshot / name).write_text("{}", encoding="utf-8")
    return snapshot


def test_models_says_which_model_needs_a_download(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    cached = fake_hf_cache(cache, "acme/tiny-embedder", ["config.json", "model.safetensors"])
    fake_hf_cache(cache, "acme/half-reranker", ["config.json"])  # weights never downloaded
    env = {
        "HF_HUB_CACHE": str(cache),
        "RAG_EMBEDDING__MODEL": "acme/tiny-embedder",
        "RAG_RERANK__MODEL": "acme/half-reranker",
        "RAG_LLM__BACKEND": "transformers",
        "RAG_LLM__MODEL": "acme/chat-8b",
    }
    data = models_json(env)
    assert data["embedding"]["available"] == {"where": "hf-cache", "offline": True, "detail": str(cached)}
    reranker = data["reranker"]["available"]
    assert reranker["where"] == "download" and reranker["offline"] is False
    assert "only part of acme/half-reranker" in reranker["detail"]
    llm = data["llm"]
    assert llm["ready"] is False and llm["available"]["where"] == "download"
    assert f"not in the Hugging Face cache ({cache})" in llm["available"]["detail"]
    assert "hf download acme/chat-8b" in llm["available"]["detail"]

    text = rag("models", env=env).stdout
    assert "acme/tiny-embedder\n          in the local Hugging Face cache, available offline" in text
    assert "needs a download: not in the Hugging Face cache" in text


def test_models_local_paths_and_servers(tmp_path: Path) -> None:
    local = tmp_path / "my-embedder"
    local.mkdir()
    data = models_json(
        {
            "RAG_EMBEDDING__MODEL": str(local),
            "RAG_RERANK__MODEL": str(tmp_path / "gone"),
            "RAG_LLM__BACKEND": "ollama",
            "RAG_LLM__BASE_URL": f"http://127.0.0.1:{free_port()}",
        }
    )
    assert data["embedding"]["available"] == {"where": "local", "offline": True, "detail": str(local)}
    assert data["reranker"]["available"]["where"] == "missing"
    assert data["llm"]["ready"] is False  # nothing listens there
    assert data["llm"]["available"]["where"] == "server" and data["llm"]["available"]["offline"] is None
