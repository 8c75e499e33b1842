"""What the chat page shows of documents: the original file of a citation (authorised, only documents
of that collection), sources relative to the ingested folder, failed files counted and listed, and the
one collection-name rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from rag_core.settings import Settings
from rag_core.types import Citation
from tests.api._apitools import RecordingComponents, variant
from tests.helpers import write_pdf

COLLECTION = "cli folder"
KEY = "files-key"
GARDEN = "The community garden opens at seven in the morning and the compost bins are emptied on Fridays."
BIKES = "Bicycles are parked in the basement; the bicycle room code changes on the first day of every month."
GBK_TEXT = "员工食堂的午餐时间是十一点半到一点半，周末不开放。"


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory, components: RecordingComponents) -> Path:
    """A folder ingested as `rag ingest FOLDER -c 'cli folder'` would: nested paths, a PDF, a GBK text."""
    root = tmp_path_factory.mktemp("cli") / "team-docs"
    (root / "facilities" / "outdoor").mkdir(parents=True)
    (root / "facilities" / "outdoor" / "garden.md").write_text(f"# Garden\n\n{GARDEN}\n", encoding="utf-8")
    (root / "bikes.txt").write_text(BIKES + "\n", encoding="utf-8")
    (root / "食堂.txt").write_bytes(GBK_TEXT.encode("gbk"))
    (root / "page.html").write_text(
        "<html><head><title>Lockers</title><script>alert(1)</script></head>"
        "<body><p>Lockers on the second floor are assigned by the front desk for one year.</p></body></html>",
        encoding="utf-8",
    )
    write_pdf(
        root / "manual.pdf",
        "Manual",
        [
            ("Introduction", "This manual describes the coffee machine in the kitchen of the office."),
            (
                "Cleaning",
                "The coffee machine is descaled every Tuesday by the facilities team, using tablets.",
            ),
        ],
    )
    report = components.ingest_pipeline().run([root], COLLECTION)
    assert report.ok, report.to_json()
    return root


@pytest.fixture(scope="module")
def secured(api_settings: Settings, components: RecordingComponents) -> Iterator[TestClient]:
    with TestClient(create_app(variant(api_settings, api_keys=[KEY], warm_up=False), components)) as client:
        client.headers["Authorization"] = f"Bearer {KEY}"
        yield client


def documents(client: TestClient, collection: str) -> dict[str, Any]:
    response = client.get(f"/v1/collections/{collection}/documents")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_name(client: TestClient, collection: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in documents(client, collection)["items"]}


def test_sources_are_relative_to_the_ingested_folder(
    secured: TestClient, cli_folder: Path, components: RecordingComponents
) -> None:
    names = by_name(secured, COLLECTION)
    assert set(names) == {"bikes.txt", "facilities/outdoor/garden.md", "manual.pdf", "page.html", "食堂.txt"}
    assert all(d["source"] == d["name"] for d in names.values())
    body = {"question": "When are the compost bins emptied?", "collection": COLLECTION}
    response = secured.post("/v1/query", json={**body, "options": {"retrieval_only": True}})
    assert response.status_code == 200, response.text
    context = response.json()["context"]
    assert context[0]["source"] == "facilities/outdoor/garden.md"
    assert not any(str(cli_folder) in item["source"] or item["source"].startswith("/") for item in context)
    # The catalog keeps the absolute path: re-ingesting finds every file unchanged, by the same key.
    again = components.ingest_pipeline().run([cli_folder], COLLECTION)
    assert again.count("unchanged") == 5 and again.count("added") == 0
    # A filter on the relative path still works.
    filtered = {**body, "filters": {"source_prefix": "facilities/"}, "options": {"retrieval_only": True}}
    sources = {c["source"] for c in secured.post("/v1/query", json=filtered).json()["context"]}
    assert sources == {"facilities/outdoor/garden.md"}


def test_the_file_of_a_citation_is_served(secured: TestClient, cli_folder: Path) -> None:
    names = by_name(secured, COLLECTION)
    url = f"/v1/collections/{COLLECTION}/documents/{{}}/file"

    pdf = secured.get(url.format(names["manual.pdf"]["doc_id"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == (cli_folder / "manual.pdf").read_bytes()
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["x-content-type-options"] == "nosniff"

    garden = secured.get(url.format(names["facilities/outdoor/garden.md"]["doc_id"]))
    assert garden.status_code == 200 and garden.headers["content-type"] == "text/plain; charset=utf-8"
    assert GARDEN in garden.text and 'filename="garden.md"' in garden.headers["content-disposition"]

    canteen = secured.get(url.format(names["食堂.txt"]["doc_id"]))  # GBK on disk, UTF-8 on the wire
    assert canteen.status_code == 200 and canteen.text.strip() == GBK_TEXT
    assert "filename*=utf-8''%E9%A3%9F%E5%A0%82.txt" in canteen.headers["content-disposition"]

    html = secured.get(url.format(names["page.html"]["doc_id"]))  # never rendered in the API's origin
    assert html.status_code == 200 and html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"].startswith("attachment")
    assert html.headers["content-security-policy"] == "sandbox"


def test_only_documents_of_that_collection_with_a_key(
    secured: TestClient, cli_folder: Path, api_settings: Settings
) -> None:
    doc_id = by_name(secured, COLLECTION)["bikes.txt"]["doc_id"]
    path = f"/v1/collections/{COLLECTION}/documents/{doc_id}/file"
    assert secured.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    # Another collection does not serve this collection's documents.
    other = secured.get(f"/v1/collections/{api_settings.collection}/documents/{doc_id}/file")
    assert other.status_code == 404 and other.json()["error"]["type"] == "not_found"
    # Nothing but a catalog doc_id names a file; paths in any spelling are unknown documents.
    for hostile in [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "..",
        "bikes.txt",
        str(cli_folder / "bikes.txt"),
    ]:
        response = secured.get(f"/v1/collections/{COLLECTION}/documents/{hostile}/file")
        assert response.status_code == 404, (hostile, response.text)
        assert "error" in response.json()
    assert secured.get(f"/v1/collections/nope/documents/{doc_id}/file").status_code == 404


def test_a_moved_or_replaced_file_is_gone(secured: TestClient, cli_folder: Path, tmp_path: Path) -> None:
    names = by_name(secured, COLLECTION)
    bikes = cli_folder / "bikes.txt"
    url = f"/v1/collections/{COLLECTION}/documents/{names['bikes.txt']['doc_id']}/file"
    moved = bikes.rename(tmp_path / "bikes.txt")
    try:
        response = secured.get(url)
        assert response.status_code == 404
        message = response.json()["error"]["message"]
        assert "bikes.txt" in message and str(cli_folder) not in message
        secret = tmp_path / "secret.txt"
        secret.write_text("not a document", encoding="utf-8")
        bikes.symlink_to(secret)  # a link put in its place is not the ingested file
        assert secured.get(url).status_code == 404
    finally:
        bikes.unlink(missing_ok=True)
        moved.rename(bikes)
    assert secured.get(url).status_code == 200


def test_failed_files_are_counted_and_listed(secured: TestClient) -> None:
    files = [
        (
            "files",
            ("coffee.md", b"# Coffee\n\nThe coffee machine is descaled every Tuesday.\n", "text/markdown"),
        ),
        ("files", ("broken.pdf", b"%PDF-1.7\nthis is not really a PDF\n", "application/pdf")),
    ]
    response = secured.post(
        "/v1/collections/with failures/documents", files=files, params={"background": "false"}
    )
    assert response.status_code == 201, response.text
    assert {f["name"]: f["status"] for f in response.json()["files"]} == {
        "coffee.md": "added",
        "broken.pdf": "failed",
    }
    failures = response.json()["report"]["failures"]  # named as uploaded, not by their server path
    assert [f["path"] for f in failures] == ["broken.pdf"] and failures[0]["status"] == "failed"

    listing = documents(secured, "with failures")
    assert (listing["documents"], listing["failed"], len(listing["items"])) == (1, 1, 2)
    items = {d["name"]: d for d in listing["items"]}
    assert items["broken.pdf"]["status"] == "failed" and items["broken.pdf"]["error"]
    assert items["coffee.md"]["status"] == "ready"
    summary = secured.get("/v1/collections/with failures").json()
    assert (summary["documents"], summary["failed"]) == (1, 1)
    assert {"name": "with failures", "documents": 1, "failed": 1}.items() <= next(
        c for c in secured.get("/v1/collections").json() if c["name"] == "with failures"
    ).items()
    failed = secured.get(f"/v1/collections/with failures/documents/{items['broken.pdf']['doc_id']}/file")
    assert failed.status_code == 404 and "not indexed" in failed.json()["error"]["message"]
    uploaded = secured.get(f"/v1/collections/with failures/documents/{items['coffee.md']['doc_id']}/file")
    assert uploaded.status_code == 200 and "descaled every Tuesday" in uploaded.text


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("Facilities 设施", 201),
        ("  产品手册 v2.1 (draft)  ", 201),
        ("x" * 64, 201),
        ("x" * 65, 422),
        ("a/b", 422),
        ("a\\b", 422),
        ("..", 422),
        ("tab\there", 422),
        ("   ", 422),
    ],
)
def test_one_collection_name_rule(secured: TestClient, name: str, status: int) -> None:
    rule = secured.get("/v1/info").json()["collection_name"]
    assert rule["max_chars"] == 64 and "any language" in rule["rule"]
    if status == 201:  # other tests of the session (the chat page's) may have made it already
        assert secured.delete(f"/v1/collections/{name.strip()}").status_code in (204, 404)
    response = secured.post("/v1/collections", json={"name": name})
    assert response.status_code == status, response.text
    if status == 422:
        assert rule["rule"] in response.json()["error"]["message"]
    else:
        assert response.json()["name"] == name.strip()
        assert secured.delete(f"/v1/collections/{name.strip()}").status_code == 204


def test_answers_stored_with_server_paths_are_shown_relative(secured: TestClient, cli_folder: Path) -> None:
    """A conversation saved before sources were made relative shows them relative too."""
    doc = by_name(secured, COLLECTION)["facilities/outdoor/garden.md"]
    store = secured.app.state.rag.conversations  # type: ignore[attr-defined]
    conversation = store.create("older", COLLECTION)
    store.add_message(conversation.id, "user", "When are the compost bins emptied?")
    old = Citation(
        id=1,
        doc_id=doc["doc_id"],
        source=str(cli_folder / "facilities/outdoor/garden.md"),
        title="",
        text=GARDEN,
    )
    store.add_message(conversation.id, "assistant", "On Fridays [1].", citations=[old])
    shown = secured.get(f"/v1/conversations/{conversation.id}").json()["messages"][1]["citations"]
    assert [c["source"] for c in shown] == ["facilities/outdoor/garden.md"]
