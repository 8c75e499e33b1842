"""BM25 on PostgreSQL against SQLite's FTS5 on real collections.

Every live document of a collection in a SQLite catalog (an ingested data dir: no re-embedding) is written
to a PostgreSQL catalog, and each question of a bench set is searched in both; prints hit@1 and hit@5
(by gold document) of BM25 chunk search for each backend, and how often their top 5 are the same.

    .venv/bin/python benchmarks/lexical_parity.py --data-dir /tmp/rag-e5 \
        --database postgresql://postgres@127.0.0.1:5432/parity --set ../shared/bench/xquad-en --split check
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rag.eval.dataset import load_set, select_split
from vectorstore.catalog import Catalog
from vectorstore.records import DocumentWrite, summary_of

BATCH = 200


def copy_collection(source: Catalog, target: Catalog, name: str) -> None:
    info = source.collection(name)
    if info is None:
        raise SystemExit(f"no collection {name!r} in the SQLite catalog")
    if target.collection(name) is None:
        target.add_collection(info)
    rows = [r for r in source.documents(name) if r.version]
    for start in range(0, len(rows), BATCH):
        writes = [
            DocumentWrite(
                doc_id=r.doc_id,
                source=r.source,
                relpath=r.relpath,
                title=r.title,
                file_type=r.file_type,
                version=r.version or "",
                content_hash=r.content_hash or "",
                fingerprint=r.fingerprint,
                size=r.size or 0,
                mtime=r.mtime or 0.0,
                summary=summary_of(r),
                chunks=source.chunks_of(name, r.doc_id),
                metadata=r.metadata,
            )
            for r in rows[start : start + BATCH]
        ]
        target.publish(info, writes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir the set was ingested into")
    parser.add_argument("--database", required=True, help="postgresql:// URL of an empty database")
    parser.add_argument("--set", type=Path, required=True, help="a bench set (FORMAT.md layout)")
    parser.add_argument("--collection", help="default: eval-<set name>, as `rag eval` names it")
    parser.add_argument("--split", default="check", choices=["tune", "check", "all"])
    args = parser.parse_args()
    bench = load_set(args.set)
    name = args.collection or f"eval-{bench.name}"
    sqlite, server = Catalog(args.data_dir / "catalog.sqlite3"), Catalog(args.database)
    started = time.perf_counter()
    copy_collection(sqlite, server, name)
    copied = time.perf_counter() - started
    info = sqlite.collection(name)
    assert info is not None
    questions = select_split(bench.questions, args.split) if args.split != "all" else bench.questions
    hits = {"sqlite": [0, 0], "postgresql": [0, 0]}
    same_top5 = 0
    seconds = {"sqlite": 0.0, "postgresql": 0.0}
    counted = 0
    for q in questions:
        if not q.gold_docs:
            continue
        counted += 1
        tops = {}
        for backend, catalog in (("sqlite", sqlite), ("postgresql", server)):
            t = time.perf_counter()
            found = catalog.lexicon.chunks(info, q.question, k=5)
            seconds[backend] += time.perf_counter() - t
            docs = [Path(c.source).name for c, _ in found]
            tops[backend] = [c.id for c, _ in found]
            hits[backend][0] += bool(docs[:1] and docs[0] in q.gold_docs)
            hits[backend][1] += any(d in q.gold_docs for d in docs)
        same_top5 += tops["sqlite"] == tops["postgresql"]
    n = max(counted, 1)
    report = {
        "set": bench.name,
        "split": args.split,
        "questions": counted,
        "copied_s": round(copied, 1),
        **{
            backend: {
                "hit@1": round(h[0] / n, 3),
                "hit@5": round(h[1] / n, 3),
                "ms_per_query": round(1000 * seconds[backend] / n, 1),
            }
            for backend, h in hits.items()
        },
        "same_top5": round(same_top5 / n, 3),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
