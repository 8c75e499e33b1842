"""Schemathesis against the app's OpenAPI spec, in process (ASGI), with the real components: embedded
Chroma in a temp dir, the bundled embedder and SmolLM2, the sample documents ingested.

Every operation gets generated requests, valid and invalid (positive and negative modes). Checks: no
response is a 5xx, and every 4xx carries the error shape `{"error": {"type": str, "message": str}}`.
Bounded: FUZZ_EXAMPLES examples per operation and mode (default 25), derandomized, no shrinking; set
ROBUSTNESS_FUZZ_EXAMPLES for a longer run. All operations run; the failures are reported together.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.app import create_app
from rag.components import Components
from rag_core.settings import ApiSettings, Settings
from tests.api._apitools import SAMPLES
from tests.helpers import shared_embedder

FUZZ_EXAMPLES = int(os.environ.get("ROBUSTNESS_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    root = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        data_dir=root / "data",
        api=ApiSettings(warm_up=False, max_upload_mb=2, request_timeout_s=120),  # type: ignore[call-arg]
    )
    components = Components(settings, embedder=shared_embedder())
    report = components.ingest_pipeline().run([SAMPLES], settings.collection)
    assert report.ok
    return create_app(settings, components)


def error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is `{"error": {"type": str, "message": str}}`."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"{response.status_code} without a JSON body: {response.content[:200]!r}"
        ) from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without the error shape: {body!r}"
    assert isinstance(error.get("type"), str) and error["type"], body
    assert isinstance(error.get("message"), str) and error["message"], body


def fuzz_runner(operation: Any, mode: GenerationMode, calls: dict[str, int]) -> Any:
    """One Hypothesis test for one operation and generation mode."""
    label = operation.label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        calls[label] = calls.get(label, 0) + 1
        case.validate_response(response, checks=[not_a_server_error, error_shape])

    return run


@pytest.mark.slow
def test_fuzz_no_5xx_and_4xx_error_shape(fuzz_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz_runner(operation, mode, calls)()
            except Unsatisfiable:  # no invalid input exists (an operation without parameters)
                continue
            except Exception as exc:  # one failure per operation and mode; keep going to find them all
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:1500]}")
    print(f"{sum(calls.values())} requests over {len(calls)} operations")
    assert calls and not failures, "\n\n".join(failures)
