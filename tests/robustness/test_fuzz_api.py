"""Schemathesis against the app's OpenAPI spec, in process (ASGI), with the real components: embedded
Chroma in a temp dir, the bundled embedder and SmolLM2, the sample documents ingested.

Every operation gets generated requests, valid and invalid (positive and negative modes). Checks: no
response is a 5xx, and every 4xx carries the error shape `{"error": {"type": str, "message": str}}`.
Bounded: FUZZ_EXAMPLES examples per operation and phase (default 25), no shrinking; set
ROBUSTNESS_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from rag.components import Components
from rag.settings import ApiSettings, Settings
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
    components = Components(settings)
    components.__dict__["embedder"] = shared_embedder()
    report = components.ingest_pipeline().run([SAMPLES], settings.collection)
    assert report.ok
    return create_app(settings, components)


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    schema.config.generation.update(max_examples=FUZZ_EXAMPLES, no_shrink=True, deterministic=True)
    return schema


def error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is `{"error": {"type": str, "message": str}}`."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without the error shape: {body!r}"
    assert isinstance(error.get("type"), str) and error["type"], body
    assert isinstance(error.get("message"), str) and error["message"], body


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_fuzz_no_5xx_and_4xx_error_shape(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, error_shape])
