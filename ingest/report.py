"""What an ingest run did, per file and in total; `to_json()` is the `rag ingest --json` report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["added", "updated", "unchanged", "removed", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("added", "updated", "unchanged", "removed", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    status: Status
    error: str = ""
    chunks: int = 0
    doc_id: str = ""


@dataclass(slots=True)
class IngestReport:
    collection: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    new_chunks: int = 0
    reembedded_from: str = ""  # the embedder the collection was built with, when this run re-embedded it

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)
        self.new_chunks += outcome.chunks if outcome.status in ("added", "updated") else 0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("failed", "skipped")]

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "files": {s: self.count(s) for s in STATUSES},
            "failures": [{"path": o.path, "error": o.error, "status": o.status} for o in self.failures],
            "documents": self.documents,
            "chunks": self.chunks,
            "new_chunks": self.new_chunks,
            "seconds": round(self.seconds, 3),
            "reembedded_from": self.reembedded_from or None,
        }
