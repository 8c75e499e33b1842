"""The local endpoints of `rag serve` (/v1/local): only the holder of the local credential may call them,
an API key is not enough; the credential counts as an API key elsewhere; ingest streams its progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag.components import Components
from rag.local.announcement import TOKEN_HEADER
from rag_core.settings import Settings
from tests.helpers import shared_embedder

KEY = "an-api-key"
TOKEN = "the-local-credential"


@pytest.fixture()
def local_client(tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", api_keys=[KEY])
    components = Components(settings, embedder=shared_embedder())
    return TestClient(create_app(settings, components, local_token=TOKEN))


def test_the_local_credential_is_required(local_client: TestClient) -> None:
    body = {"paths": ["/etc"]}
    for headers in ({}, {"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}, {TOKEN_HEADER: "wrong"}):
        for response in (
            local_client.get("/v1/local/whoami", headers=headers),
            local_client.post("/v1/local/ingest", json=body, headers=headers),
        ):
            assert response.status_code == 401, (headers, response.text)
            assert "local credential" in response.json()["error"]["message"]
    whoami = local_client.get("/v1/local/whoami", headers={TOKEN_HEADER: TOKEN})
    assert whoami.status_code == 200 and whoami.json()["pid"] > 0


def test_the_local_credential_counts_as_an_api_key(local_client: TestClient) -> None:
    assert local_client.get("/v1/collections").status_code == 401
    assert local_client.get("/v1/collections", headers={TOKEN_HEADER: TOKEN}).status_code == 200
    assert local_client.get("/v1/collections", headers={TOKEN_HEADER: "wrong"}).status_code == 401


def test_an_app_not_started_by_rag_serve_has_no_local_calls(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path / "data")))
    response = client.get("/v1/local/whoami", headers={TOKEN_HEADER: ""})
    assert response.status_code == 403 and "rag serve" in response.json()["error"]["message"]


def test_bad_paths_get_clear_errors(local_client: TestClient, tmp_path: Path) -> None:
    headers = {TOKEN_HEADER: TOKEN}
    cases = {
        "relative/path": (422, "not an absolute path"),
        str(tmp_path / "missing"): (422, "no such file or folder"),
        "": (422, "is not a path"),
    }
    for path, (status, message) in cases.items():
        response = local_client.post("/v1/local/ingest", json={"paths": [path]}, headers=headers)
        assert response.status_code == status and message in response.json()["error"]["message"], (
            response.text
        )
    empty = local_client.post("/v1/local/ingest", json={"paths": []}, headers=headers)
    assert empty.status_code == 422
    bad_name = local_client.post(
        "/v1/local/ingest", json={"paths": [str(tmp_path)], "collection": "../x"}, headers=headers
    )
    assert bad_name.status_code in (400, 422) and "error" in bad_name.json()


def test_ingest_streams_every_file_then_the_totals(local_client: TestClient, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "pump.md").write_text("# Pump\n\nThe Zephyr pump holds 37 litres of coolant.\n")
    (folder / "fan.txt").write_text("The Boreas fan turns at 1,200 rpm in its quiet mode.\n")
    body = {"paths": [str(folder)], "collection": "machines"}
    with local_client.stream("POST", "/v1/local/ingest", json=body, headers={TOKEN_HEADER: TOKEN}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        events = [json.loads(line) for line in r.iter_lines() if line]
    assert [e["event"] for e in events] == ["start", "file", "file", "done"]
    assert events[0]["collection"] == "machines"
    assert {Path(e["path"]).name: e["status"] for e in events[1:3]} == {
        "pump.md": "added",
        "fan.txt": "added",
    }
    assert [e["done"] for e in events[1:3]] == [1, 2] and events[1]["total"] == 2
    assert events[-1]["documents"] == 2 and events[-1]["chunks"] >= 2
