"""Cross-store consistency of a data dir: catalog manifest, chunk rows, BM25 (FTS5) rows, Chroma records.

Run it in a fresh process (embedded Chroma caches segments per process, so a long-lived reader would not
see another process's writes):

    python -m tests.robustness.consistency DATA_DIR [--strict] [--query TEXT ...]

It prints one JSON object: `violations` (strings; empty = consistent), `stats` per collection and, per
live document, its source, content hash and chunk texts (for content checks by the caller).

What must hold at any time, even right after a `kill -9` (the reader's view):
- every live document (manifest row with a version) has all its chunk rows (idx 0..chunk_count-1, ids
  `doc:version:i`), one FTS row per chunk row, one summary FTS row, one Chroma summary record and exactly
  its chunk records in Chroma (same ids, same texts);
- chunk rows and FTS rows exist only for live versions;
- a Chroma record of a non-live generation is recorded as a write intent (so `recover` will delete it);
- retrieval (dense, lexical, summaries and the whole query pipeline in retrieval-only mode) returns only
  chunks of live generations.

`--strict` (after a completed ingest, whose start ran `recover`): no Chroma record of a non-live generation
and no intent is left.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

_PAGE = 2000


def _rows(con: sqlite3.Connection, sql: str, *args: object) -> list[sqlite3.Row]:
    return con.execute(sql, args).fetchall()


def _chroma_records(client: Any, name: str) -> dict[str, tuple[dict[str, Any], str]]:
    """id -> (metadata, document) for every record of a Chroma collection (empty if it does not exist)."""
    try:
        col = client.get_collection(name)
    except Exception:
        return {}
    out: dict[str, tuple[dict[str, Any], str]] = {}
    offset = 0
    while True:
        res = col.get(include=["metadatas", "documents"], limit=_PAGE, offset=offset)
        for rid, meta, doc in zip(res["ids"], res["metadatas"], res["documents"], strict=True):
            out[rid] = (dict(meta or {}), doc or "")
        if len(res["ids"]) < _PAGE:
            return out
        offset += _PAGE


def inspect(data_dir: Path, *, strict: bool = False, queries: list[str] | None = None) -> dict[str, Any]:
    from rag.components import Components
    from rag_core.settings import Settings

    violations: list[str] = []
    stats: dict[str, Any] = {}
    documents: dict[str, Any] = {}
    catalog_path = data_dir / "catalog.sqlite3"
    if not catalog_path.exists():
        return {"violations": [], "stats": {}, "documents": {}, "collections": []}
    con = sqlite3.connect(catalog_path, timeout=30)
    con.row_factory = sqlite3.Row
    settings = Settings(data_dir=data_dir)
    components = Components(settings)
    client = components.chroma.client()
    collections = _rows(con, "SELECT * FROM collections ORDER BY name")
    for col in collections:
        name, key = col["name"], col["key"]

        def bad(message: str, name: str = name) -> None:
            violations.append(f"[{name}] {message}")

        docs = _rows(con, "SELECT * FROM documents WHERE collection=?", name)
        live = {d["doc_id"]: d for d in docs if d["version"]}
        chunks = _rows(con, "SELECT * FROM chunks WHERE collection=?", name)
        intents = {
            (r["doc_id"], r["version"]) for r in _rows(con, "SELECT * FROM intents WHERE collection=?", name)
        }
        lex = {r[0] for r in _rows(con, f"SELECT rowid FROM lex_{key}")}
        lexsum = {r[0] for r in _rows(con, f"SELECT rowid FROM lexsum_{key}")}
        summaries = _chroma_records(client, f"{key}.summaries")
        chroma_chunks = _chroma_records(client, f"{key}.chunks")

        by_doc: dict[str, list[sqlite3.Row]] = defaultdict(list)
        for c in chunks:
            if live.get(c["doc_id"]) is None or live[c["doc_id"]]["version"] != c["version"]:
                bad(f"chunk row {c['id']} belongs to no live generation")
            by_doc[c["doc_id"]].append(c)
        chunk_rowids = {c["rowid"] for c in chunks}
        if lex != chunk_rowids:
            bad(
                f"FTS chunk rows differ from chunk rows: {len(lex - chunk_rowids)} extra, "
                f"{len(chunk_rowids - lex)} missing"
            )
        live_doc_rowids = {d["id"] for d in live.values()}
        if lexsum != live_doc_rowids:
            bad(
                f"FTS summary rows differ from live documents: {len(lexsum - live_doc_rowids)} extra, "
                f"{len(live_doc_rowids - lexsum)} missing"
            )

        live_chroma_chunks = 0
        live_chroma_summaries = 0
        for doc_id, d in live.items():
            version, n = d["version"], d["chunk_count"]
            rows = sorted(by_doc.get(doc_id, []), key=lambda r: r["idx"])
            expected_ids = [f"{doc_id}:{version}:{i}" for i in range(n)]
            if [r["id"] for r in rows] != expected_ids:
                bad(f"document {doc_id} ({d['source']}): chunk rows {len(rows)} != chunk_count {n}")
            sid = f"{doc_id}:{version}:summary"
            if sid not in summaries:
                bad(f"document {doc_id} ({d['source']}): no Chroma summary record")
            else:
                live_chroma_summaries += 1
            in_chroma = {
                rid: doc
                for rid, (meta, doc) in chroma_chunks.items()
                if meta.get("doc_id") == doc_id and meta.get("version") == version
            }
            live_chroma_chunks += len(in_chroma)
            if set(in_chroma) != set(expected_ids):
                bad(
                    f"document {doc_id} ({d['source']}): Chroma has {len(in_chroma)} chunk records of the "
                    f"live generation, the catalog {n}"
                )
            for r in rows:
                if r["id"] in in_chroma and in_chroma[r["id"]] != r["text"]:
                    bad(f"chunk {r['id']}: Chroma text differs from the catalog's")
            documents[f"{name}/{doc_id}"] = {
                "collection": name,
                "source": d["source"],
                "content_hash": d["content_hash"],
                "version": version,
                "chunks": [r["text"] for r in rows],
            }

        stale: Counter[str] = Counter()
        for level, records in (("summary", summaries), ("chunk", chroma_chunks)):
            for rid, (meta, _) in records.items():
                pair = (meta.get("doc_id", ""), meta.get("version", ""))
                d = live.get(pair[0])
                if d is not None and d["version"] == pair[1]:
                    continue
                stale[level] += 1
                if strict:
                    bad(f"Chroma {level} record {rid} of a non-live generation survived recover")
                elif pair not in intents:
                    bad(f"Chroma {level} record {rid} of a non-live generation is not recorded as an intent")
        if strict and intents:
            bad(f"{len(intents)} write intents left after a completed ingest")

        stats[name] = {
            "documents": len(live),
            "chunk_rows": len(chunks),
            "fts_rows": len(lex),
            "fts_summary_rows": len(lexsum),
            "chroma_live_chunks": live_chroma_chunks,
            "chroma_live_summaries": live_chroma_summaries,
            "chroma_stale_chunks": stale["chunk"],
            "chroma_stale_summaries": stale["summary"],
            "intents": len(intents),
            "failed_rows": sum(1 for d in docs if not d["version"]),
        }
        counts = {stats[name][k] for k in ("chunk_rows", "fts_rows", "chroma_live_chunks")}
        if len(counts) != 1 or len(live) != live_chroma_summaries or len(live) != len(lexsum):
            bad(f"counts disagree: {stats[name]}")
        if queries:
            live_ids = {
                c["id"]
                for c in chunks
                if c["doc_id"] in live and live[c["doc_id"]]["version"] == c["version"]
            }
            _check_queries(components, name, live, live_ids, queries, bad)
    con.close()
    return {
        "violations": violations,
        "stats": stats,
        "documents": documents,
        "collections": [c["name"] for c in collections],
    }


def _check_queries(
    components: Any,
    collection: str,
    live: dict[str, Any],
    live_chunk_ids: set[str],
    queries: list[str],
    bad: Any,
) -> None:
    """Every retrieval path returns only chunks of live, complete generations."""
    from rag.query.request import QueryRequest

    index = components.index
    info = index.collection(collection)
    pipeline = components.query_pipeline()
    for q in queries:
        vector = components.embedder.embed_query(q)
        hits = [s.chunk for s in index.search_chunks(info, vector, k=30)]
        hits += [s.chunk for s in index.lexical_chunks(info, q, k=30)]
        for c in hits:
            if c.id not in live_chunk_ids:
                bad(f"query {q!r} returned chunk {c.id}, not a chunk of a live generation")
        for s in index.search_summaries(info, vector, k=10) + index.lexical_summaries(info, q, k=10):
            d = live.get(s.summary.doc_id)
            if d is None or d["version"] != s.summary.version:
                bad(f"query {q!r} returned summary {s.summary.id} of a non-live generation")
        response = pipeline.run(QueryRequest(question=q, collection=collection, retrieval_only=True))
        for e in response.context:
            if not set(e.chunk_ids) <= live_chunk_ids:
                bad(f"query {q!r}: evidence {e.id} cites chunks outside the live generations: {e.chunk_ids}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--query", action="append", default=[])
    args = parser.parse_args(argv)
    json.dump(inspect(args.data_dir, strict=args.strict, queries=args.query), sys.stdout)


if __name__ == "__main__":
    main()
