"""BM25 on PostgreSQL ranks as SQLite's FTS5 does: the same documents written to both catalogs, the same
questions, the same order and (nearly) the same scores, in English and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_write
from tests.postgres import PostgresServer
from vectorstore.catalog import Catalog
from vectorstore.records import CollectionInfo

pytestmark = pytest.mark.integration

DOCS = {
    "boilers": [
        "The boiler's pressure relief valve opens at 3 bar; test it twice a year.",
        "Bleed the radiators when the heating is running but some rooms stay cold.",
    ],
    "gardens": [
        "Raised garden beds drain better than flat ground after heavy rain.",
        "Tomatoes need six hours of direct sunlight and regular watering.",
    ],
    "trains": [
        "Night trains leave the central station at 22:40 and arrive before breakfast.",
        "Bicycles travel free on regional trains outside the morning rush hour.",
    ],
    "假期": ["员工每年享有十五天带薪年假，需提前两周申请。", "病假需要医院开具的证明，每年最多三十天。"],
    "机器人": ["扫地机器人充满电后可以连续工作九十分钟。", "每次清扫结束后请清空尘盒并清洗滤网。"],
}
QUESTIONS = [
    "When does the relief valve open?",
    "How many hours of sunlight do tomatoes need?",
    "Can I take my bicycle on the train?",
    "radiators cold rooms heating",
    "带薪年假有几天？",
    "机器人能工作多久",
    "病假证明",
    "nothing here matches zebras",
]


def _filled(where: Path | str) -> tuple[Catalog, CollectionInfo]:
    catalog = Catalog(where)
    info = CollectionInfo("parity", "parity_key", "test-embedder", 3, 1.0)
    catalog.add_collection(info)
    catalog.publish(info, [make_write(info, doc_id, texts) for doc_id, texts in DOCS.items()])
    return catalog, info


def test_postgres_bm25_ranks_as_sqlite_fts5(tmp_path: Path, postgres: PostgresServer) -> None:
    sqlite, info = _filled(tmp_path / "catalog.sqlite3")
    server, _ = _filled(postgres.new_database())
    for question in QUESTIONS:
        ours = server.lexicon.chunks(info, question, k=5)
        theirs = sqlite.lexicon.chunks(info, question, k=5)
        assert [c.text for c, _ in ours] == [c.text for c, _ in theirs], question
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-6), question
        summaries = [s.doc_id for s, _ in server.lexicon.summaries(info, question, k=3)]
        assert summaries == [s.doc_id for s, _ in sqlite.lexicon.summaries(info, question, k=3)], question
        restricted = server.lexicon.chunks(info, question, k=5, doc_ids=["trains", "机器人"])
        assert [c.text for c, _ in restricted] == [
            c.text for c, _ in sqlite.lexicon.chunks(info, question, k=5, doc_ids=["trains", "机器人"])
        ]
    for term in ("valve", "年假", "trains"):
        assert server.lexicon.document_frequency(info, term) == sqlite.lexicon.document_frequency(info, term)
    sqlite.close()
    server.close()
