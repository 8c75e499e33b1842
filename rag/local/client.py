"""The CLI's side of a running server: the query, collection and local-ingest calls over HTTP, and the
server's error bodies turned back into the errors the CLI prints (with the same exit codes).

    client = LocalServerClient(announcement)
    client.whoami()                                          # {"pid": ..., "data_dir": ...}
    client.query({"question": "...", "collection": "handbook"})
    client.ingest([Path("docs")], "handbook", prune=False, progress=callback)   # IngestReport
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from ingest.report import FileOutcome, IngestReport
from rag.local.announcement import TOKEN_HEADER, Announcement
from rag_core.errors import (
    BackendUnavailable,
    ConfigError,
    GenerationTimeout,
    InvalidInputError,
    LimitExceeded,
    ModelNotFound,
    NotFoundError,
    RagError,
    RequestTimeout,
    VectorStoreError,
)

Progress = Callable[[FileOutcome, int, int], None]
PING_TIMEOUT_S = 3.0
WORK_TIMEOUT_S = 3600.0

_BY_KIND: dict[str, type[RagError]] = {
    "not_found": NotFoundError,
    "config_error": ConfigError,
    "validation_error": InvalidInputError,
    "invalid_request": InvalidInputError,
    "limit_exceeded": LimitExceeded,
    "backend_unavailable": BackendUnavailable,
    "vector_store_unavailable": VectorStoreError,
    "model_not_found": ModelNotFound,
    "timeout": GenerationTimeout,
    "request_timeout": RequestTimeout,
}


def error_from_body(status: int, body: Any, where: str) -> RagError:
    """The error a server answered, as the RagError the in-process command would have raised."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = str(error.get("type", "")) if isinstance(error, dict) else ""
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    message = message or f"the server at {where} answered HTTP {status}"
    if status in (401, 403):
        return ConfigError(
            f"the server at {where} refused this command: {message}",
            hint="the server's announcement in the data dir is not the one that server holds; restart "
            "`rag serve`, or stop it to work without it",
        )
    cls = _BY_KIND.get(kind, RagError)
    if cls is InvalidInputError:
        return InvalidInputError(message, http_status=status)
    if cls is GenerationTimeout:
        return GenerationTimeout(message)
    return cls(message)


class LocalServerClient:
    def __init__(self, announcement: Announcement) -> None:
        self.announcement = announcement
        self.url = announcement.url.rstrip("/")
        self._headers = {TOKEN_HEADER: announcement.token}

    def _http(self, timeout: float) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self._headers, timeout=timeout, trust_env=False)

    def _lost(self, exc: httpx.HTTPError) -> RagError:
        return BackendUnavailable(
            f"lost the connection to `rag serve` at {self.url} (pid {self.announcement.pid}): "
            f"{type(exc).__name__}",
            hint="check the server's log; run the command again (without a server it runs in-process)",
        )

    def _json(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise error_from_body(response.status_code, body, self.url)
        return body

    def whoami(self) -> dict[str, Any]:
        """Raises httpx.HTTPError when nothing answers; a dict from the server otherwise."""
        with self._http(PING_TIMEOUT_S) as http:
            response = http.get("/v1/local/whoami")
        if response.status_code != 200:
            raise httpx.HTTPStatusError("not our server", request=response.request, response=response)
        body = response.json()
        return body if isinstance(body, dict) else {}

    def query(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with self._http(WORK_TIMEOUT_S) as http:
                result = self._json(http.post("/v1/query", json=body))
        except httpx.HTTPError as exc:
            raise self._lost(exc) from exc
        return result if isinstance(result, dict) else {}

    def delete_collection(self, name: str) -> None:
        try:
            with self._http(WORK_TIMEOUT_S) as http:
                self._json(http.delete(f"/v1/collections/{name}"))
        except httpx.HTTPError as exc:
            raise self._lost(exc) from exc

    def ingest(
        self, paths: list[Path], collection: str, *, prune: bool, progress: Progress | None = None
    ) -> IngestReport:
        """Ingest local paths in the server's process; `progress` is called for every file, as in-process."""
        body = {"paths": [str(p) for p in paths], "collection": collection, "prune": prune}
        try:
            with (
                self._http(WORK_TIMEOUT_S) as http,
                http.stream("POST", "/v1/local/ingest", json=body) as response,
            ):
                if response.status_code >= 400:
                    response.read()
                    self._json(response)
                return _read_ingest_events(response.iter_lines(), progress)
        except httpx.HTTPError as exc:
            raise self._lost(exc) from exc


def _read_ingest_events(lines: Iterator[str], progress: Progress | None) -> IngestReport:
    report: IngestReport | None = None
    for line in lines:
        if not line.strip():
            continue
        event = json.loads(line)
        kind = event.get("event")
        if kind == "start":
            report = IngestReport(str(event["collection"]))
        elif kind == "file" and report is not None:
            outcome = FileOutcome(
                path=str(event["path"]),
                status=event["status"],
                error=str(event.get("error", "")),
                chunks=int(event.get("chunks", 0)),
                doc_id=str(event.get("doc_id", "")),
            )
            report.add(outcome)
            if progress is not None:
                progress(outcome, int(event["done"]), int(event["total"]))
        elif kind == "done" and report is not None:
            report.documents = int(event["documents"])
            report.chunks = int(event["chunks"])
            report.seconds = float(event["seconds"])
            report.reembedded_from = str(event.get("reembedded_from") or "")
            return report
        elif kind == "error":
            raise error_from_body(int(event.get("status", 500)), event, "the server")
    raise BackendUnavailable(
        "the server stopped before the ingest finished",
        hint="documents are whole or absent; run `rag ingest` again to finish (unchanged files are skipped)",
    )
