"""Collections and documents: upload (sync and as a job), safe file names, listing, delete-then-query."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from rag_core.settings import Settings

FACT = "The launch codename of the Aurora drone project is BLUEFALCON-77, approved by the board in May."
MARKDOWN = b"# Coffee policy\n\nThe office coffee machine is descaled every Tuesday by the facilities team.\n"


def wait_for_job(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_collections_create_list_delete(client: TestClient) -> None:
    created = client.post("/v1/collections", json={"name": "scratch"})
    assert created.status_code == 201 and created.json()["documents"] == 0
    assert client.post("/v1/collections", json={"name": "scratch"}).status_code == 200
    assert "scratch" in [c["name"] for c in client.get("/v1/collections").json()]
    assert client.get("/v1/collections/scratch").json()["chunks"] == 0
    assert client.delete("/v1/collections/scratch").status_code == 204
    assert client.get("/v1/collections/scratch").status_code == 404
    assert client.delete("/v1/collections/scratch").json()["error"]["type"] == "not_found"


def test_upload_many_files_runs_a_job_with_progress(client: TestClient) -> None:
    files = [
        ("files", ("coffee.md", MARKDOWN, "text/markdown")),
        ("files", ("aurora.txt", FACT.encode(), "text/plain")),
        ("files", ("picture.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")),
    ]
    response = client.post("/v1/collections/uploads/documents", files=files)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["files_total"] == 3 and job["status"] in ("queued", "running", "done")
    job = wait_for_job(client, job["id"])
    assert job["status"] == "done" and job["files_done"] == 3
    by_name = {f["name"]: f for f in job["files"]}
    assert by_name["coffee.md"]["status"] == "added" and by_name["coffee.md"]["chunks"] >= 1
    assert by_name["aurora.txt"]["status"] == "added"
    assert by_name["picture.png"]["status"] in ("skipped", "failed") and by_name["picture.png"]["error"]
    assert job["report"]["files"]["added"] == 2

    listing = client.get("/v1/collections/uploads/documents").json()
    names = {d["name"]: d for d in listing["items"]}
    assert names["coffee.md"]["status"] == "ready" and names["coffee.md"]["chunks"] >= 1
    assert listing["documents"] == 2 and listing["chunks"] >= 2


def test_small_upload_is_ingested_before_the_response(client: TestClient) -> None:
    response = client.post(
        "/v1/collections/small/documents", files={"files": ("note.md", MARKDOWN, "text/markdown")}
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "done" and job["files"][0]["status"] == "added"
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "done"
    assert client.get("/v1/jobs/unknown").status_code == 404


def test_file_names_never_escape_the_upload_folder(client: TestClient, api_settings: Settings) -> None:
    hostile = ["../../escape.md", "/etc/absolute.md", "..\\..\\windows.md", "...", ".hidden.md"]
    files = [("files", (name, MARKDOWN, "text/markdown")) for name in hostile[:3]]
    files.append(("files", (hostile[4], MARKDOWN, "text/markdown")))
    response = client.post("/v1/collections/names/documents", files=files, params={"background": "false"})
    assert response.status_code == 201, response.text
    stored = sorted(f["name"] for f in response.json()["files"])
    assert stored == ["absolute.md", "escape.md", "hidden.md", "windows.md"]
    data_dir = api_settings.data_dir
    uploads = data_dir / "uploads"
    written = [p for p in data_dir.parent.rglob("*.md") if "escape" in p.name or "absolute" in p.name]
    assert written and all(uploads in p.parents for p in written)
    assert not Path("/etc/absolute.md").exists()

    nameless = client.post("/v1/collections/names/documents", files={"files": ("...", MARKDOWN)})
    assert nameless.status_code == 400 and nameless.json()["error"]["type"] == "invalid_request"


def test_deleted_document_never_comes_back(client: TestClient) -> None:
    upload = client.post(
        "/v1/collections/secrets/documents",
        files=[
            ("files", ("aurora.txt", FACT.encode(), "text/plain")),
            ("files", ("coffee.md", MARKDOWN, "text/markdown")),
        ],
        params={"background": "false"},
    )
    assert upload.status_code == 201
    doc_id = next(f["doc_id"] for f in upload.json()["files"] if f["name"] == "aurora.txt")
    question = {"question": "What is the launch codename BLUEFALCON-77 of Aurora?", "collection": "secrets"}
    search = {**question, "options": {"retrieval_only": True}}

    before = client.post("/v1/query", json=search).json()
    assert any(c["doc_id"] == doc_id and "BLUEFALCON-77" in c["text"] for c in before["context"])

    assert client.delete(f"/v1/collections/secrets/documents/{doc_id}").status_code == 204
    for body in (search, {**search, "options": {"retrieval_only": True, "disabled": ["dense"]}}, question):
        after = client.post("/v1/query", json=body).json()
        assert all(c["doc_id"] != doc_id for c in after["context"]), body
        assert all("BLUEFALCON" not in c["text"] for c in after["context"] + after["citations"])
    listed = client.get("/v1/collections/secrets/documents").json()["items"]
    assert doc_id not in {d["doc_id"] for d in listed}
    again = client.delete(f"/v1/collections/secrets/documents/{doc_id}")
    assert again.status_code == 404 and again.json()["error"]["type"] == "not_found"
