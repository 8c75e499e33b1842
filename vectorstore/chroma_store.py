"""Chroma, embedded (a directory) or client/server (`RAG_CHROMA__URL`), behind one small class.

Each user collection has two Chroma collections: `<key>.summaries` (one record per document) and
`<key>.chunks`. Vectors are computed by our embedder; Chroma never embeds.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import numpy as np

from rag_core.errors import VectorStoreError

Level = Literal["summaries", "chunks"]
_DELETE_BATCH = 100
_T = TypeVar("_T")


def _missing_collection(exc: Exception) -> bool:
    """Chroma's answer for a collection handle whose collection was deleted (by any client)."""
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) and "does not exist" in str(exc).lower()


def _delete(col: Any, *, where: dict[str, Any]) -> None:
    col.delete(where=where)


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float  # cosine similarity
    metadata: dict[str, Any]
    document: str


class ChromaStore:
    def __init__(
        self, *, url: str = "", path: Path | None = None, tenant: str = "", database: str = ""
    ) -> None:
        self.url = url
        self.path = path
        self._tenant = tenant
        self._database = database
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self.url or str(self.path)

    def _error(self, action: str, exc: Exception) -> VectorStoreError:
        if self.url:
            hint = f"check that the Chroma server at {self.url} is running (chroma run --path DIR --port N)"
        else:
            hint = f"check that {self.path} is writable and not used by another process"
        return VectorStoreError(f"Chroma {action} failed: {type(exc).__name__}: {exc}", hint=hint)

    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        opts = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
        kwargs: dict[str, Any] = {}
        if self._tenant:
            kwargs["tenant"] = self._tenant
        if self._database:
            kwargs["database"] = self._database
        try:
            if self.url:
                parsed = urlparse(self.url)
                return chromadb.HttpClient(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=opts,
                    **kwargs,
                )
            assert self.path is not None
            self.path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.path), settings=opts, **kwargs)
        except Exception as exc:
            raise self._error("connection", exc) from exc

    def _collection(self, key: str, level: Level) -> Any:
        name = f"{key}.{level}"
        col = self._collections.get(name)
        if col is None:
            try:
                col = self.client().get_or_create_collection(
                    name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            except VectorStoreError:
                raise
            except Exception as exc:
                raise self._error("opening a collection", exc) from exc
            self._collections[name] = col
        return col

    def heartbeat(self) -> None:
        try:
            self.client().heartbeat()
        except VectorStoreError:
            raise
        except Exception as exc:
            self._client = None
            self._collections.clear()
            raise self._error("heartbeat", exc) from exc

    def upsert(
        self,
        key: str,
        level: Level,
        ids: Sequence[str],
        vectors: Sequence[Sequence[float] | np.ndarray],
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        if not ids:
            return

        def write(col: Any) -> None:
            step = max(1, int(self.client().get_max_batch_size()))
            for i in range(0, len(ids), step):
                col.upsert(
                    ids=list(ids[i : i + step]),
                    embeddings=[list(map(float, v)) for v in vectors[i : i + step]],
                    documents=list(documents[i : i + step]),
                    metadatas=[
                        {k: v for k, v in m.items() if v is not None} for m in metadatas[i : i + step]
                    ],
                )

        self._call(key, level, "write", write)

    def query(
        self, key: str, level: Level, vector: Sequence[float], k: int, doc_ids: Sequence[str] | None = None
    ) -> list[Hit]:
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        where: dict[str, Any] | None = None
        if doc_ids is not None:
            where = {"doc_id": {"$in": list(doc_ids)}}
        res = self._call(
            key,
            level,
            "query",
            lambda col: col.query(
                query_embeddings=[list(map(float, vector))],
                n_results=k,
                where=where,
                include=["distances", "metadatas", "documents"],
            ),
        )
        ids = res["ids"][0]
        return [
            Hit(id=i, score=1.0 - float(d), metadata=dict(m or {}), document=doc or "")
            for i, d, m, doc in zip(
                ids, res["distances"][0], res["metadatas"][0], res["documents"][0], strict=True
            )
        ]

    def delete_versions(self, key: str, pairs: Sequence[tuple[str, str]]) -> None:
        levels: tuple[Level, ...] = ("summaries", "chunks")
        for level in levels:
            for i in range(0, len(pairs), _DELETE_BATCH):
                batch = pairs[i : i + _DELETE_BATCH]
                clauses = [{"$and": [{"doc_id": d}, {"version": v}]} for d, v in batch]
                where: dict[str, Any] = clauses[0] if len(clauses) == 1 else {"$or": clauses}
                self._call(key, level, "delete", functools.partial(_delete, where=where))

    def count(self, key: str, level: Level) -> int:
        return int(self._call(key, level, "count", lambda col: col.count()))

    def drop(self, key: str) -> None:
        for level in ("summaries", "chunks"):
            name = f"{key}.{level}"
            self._collections.pop(name, None)
            try:
                self.client().delete_collection(name)
            except VectorStoreError:
                raise
            except Exception as exc:
                if "does not exist" not in str(exc).lower():
                    raise self._error("dropping a collection", exc) from exc

    def _call(self, key: str, level: Level, action: str, work: Callable[[Any], _T]) -> _T:
        """Run `work` on the collection's handle. A handle whose collection another process dropped (and
        maybe re-created: API replicas share one server) is re-opened once instead of failing."""
        for attempt in (1, 2):
            col = self._collection(key, level)
            try:
                return work(col)
            except Exception as exc:
                if attempt == 1 and _missing_collection(exc):
                    self._collections.pop(f"{key}.{level}", None)
                    continue
                self._forget_on_connection_error(exc)
                raise self._error(action, exc) from exc
        raise AssertionError("unreachable")

    def _forget_on_connection_error(self, exc: Exception) -> None:
        """After a lost server, reconnect on the next call instead of reusing dead handles."""
        if self.url:
            self._client = None
            self._collections.clear()
