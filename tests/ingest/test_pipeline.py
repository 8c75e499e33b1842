"""The ingest pipeline end to end on real files: embedded Chroma in the test's data dir, the bundled
embedder (loaded once per process), generated files of several formats and every kind of bad input."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from ingest.chunking import CHUNKER_VERSION
from ingest.identity import upload_folder
from ingest.loaders import PARSER_VERSION, load_file
from ingest.pipeline import IngestPipeline
from ingest.report import IngestReport
from rag.components import Components
from rag_core.settings import load_settings
from rag_core.tokens import LEXICAL_VERSION
from rag_core.types import LoadedDocument, Section
from tests.helpers import (
    PDF_PAGES,
    CountingEmbedder,
    fixtures_module,
    set_mtime,
    shared_embedder,
    write_corpus,
    write_pdf,
)
from vectorstore.records import CollectionInfo

COLLECTION = "kb"


class Harness:
    """Components built from the environment (as the CLI does) with the shared, counting embedder."""

    def __init__(self) -> None:
        self.embedder = CountingEmbedder(shared_embedder())
        self.components = self.build()

    def build(self) -> Components:
        return Components(load_settings(), embedder=self.embedder)  # type: ignore[arg-type]

    def reload_settings(self) -> None:
        self.components.catalog.close()
        self.components = self.build()

    @property
    def pipeline(self) -> IngestPipeline:
        return self.components.ingest_pipeline()

    def run(self, *paths: Path, prune: bool = False, collection: str = COLLECTION) -> IngestReport:
        self.embedder.reset()
        return self.pipeline.run(list(paths), collection, prune=prune)

    @property
    def info(self) -> CollectionInfo:
        return self.components.index.collection(COLLECTION)

    def lexical(self, query: str) -> set[str]:
        """Sources of the chunks BM25 finds for `query`."""
        return {h.chunk.source for h in self.components.index.lexical_chunks(self.info, query, k=20)}

    def dense_texts(self, query: str, k: int = 20) -> list[str]:
        vector = self.embedder.embed_query(query)
        return [h.chunk.text for h in self.components.index.search_chunks(self.info, vector, k=k)]

    def all_chunk_texts(self) -> str:
        catalog = self.components.catalog
        return "\n".join(
            c.text for d in catalog.documents(COLLECTION) for c in catalog.chunks_of(COLLECTION, d.doc_id)
        )

    def chroma_counts(self) -> tuple[int, int]:
        chroma = self.components.chroma
        return chroma.count(self.info.key, "summaries"), chroma.count(self.info.key, "chunks")

    def dense_expected(self) -> tuple[int, int]:
        """Documents and chunks in Chroma: every live one, Chinese included (the bundled English
        embedder still reads their Latin-script names and numbers for English questions)."""
        catalog = self.components.catalog
        docs = chunks = 0
        for row in catalog.documents(COLLECTION):
            if row.version:
                docs += 1
                chunks += len(catalog.chunks_of(COLLECTION, row.doc_id))
        return docs, chunks

    def assert_consistent(self) -> None:
        """Chroma holds exactly the live generation of every document: nothing stale, nothing missing."""
        assert self.chroma_counts() == self.dense_expected()
        assert self.components.catalog.intents(COLLECTION) == []

    def versions(self) -> dict[str, str | None]:
        return {d.source: d.version for d in self.components.catalog.documents(COLLECTION)}


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    return {k: p.resolve() for k, p in write_corpus(tmp_path / "docs").items()}


def section_spans(doc: LoadedDocument) -> list[tuple[int, int, Section]]:
    spans, offset = [], 0
    for s in doc.sections:
        spans.append((offset, offset + len(s.text), s))
        offset += len(s.text) + 2  # sections are joined by a blank line
    return spans


def section_at(doc: LoadedDocument, offset: int) -> Section:
    return next(s for a, b, s in section_spans(doc) if a <= offset < b)


def sections_between(doc: LoadedDocument, start: int, end: int) -> list[Section]:
    return [s for a, b, s in section_spans(doc) if a < end and start < b]


def statuses(report: IngestReport) -> dict[str, int]:
    return {s: n for s, n in report.to_json()["files"].items() if n}


def test_ingest_a_folder_of_formats(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"added": 7}, report.failures
    assert report.ok and report.documents == 7
    assert report.chunks == report.new_chunks == harness.components.catalog.counts(COLLECTION)["chunks"]
    assert report.chunks >= 7
    assert harness.dense_expected()[1] == report.chunks  # the Chinese files are embedded too
    assert harness.embedder.texts == report.chunks  # every chunk embedded once, summaries not at all
    harness.assert_consistent()

    assert harness.lexical("vacation") == {str(corpus["md"])}
    assert harness.lexical("Falconer") == {str(corpus["txt"])}
    assert harness.lexical("发票 签字") == {str(corpus["gbk"])}  # GBK decoded
    assert harness.lexical("带薪年假") == {str(corpus["zh"])}
    assert harness.lexical("Dustbuster battery") == {str(corpus["html"])}
    assert harness.lexical("helpdesk passwords") == {str(corpus["docx"])}
    assert harness.lexical("Oslo") == {str(corpus["csv"])}
    texts = harness.all_chunk_texts()
    assert "population: 709000" in texts  # CSV rows carry their header
    assert "do-not-index-this-script" not in texts and "color: red" not in texts
    assert "Home | Products" not in texts  # navigation dropped

    rows = {Path(r.source).name: r for r in harness.components.catalog.documents(COLLECTION)}
    assert set(rows) == {p.name for p in corpus.values()}
    for name, row in rows.items():
        path = Path(row.source)
        assert row.version and row.error is None and row.chunk_count >= 1, name
        assert row.content_hash and row.size == path.stat().st_size and row.mtime == path.stat().st_mtime
        assert row.summary_strategy == "extractive" and row.title in row.summary
        assert row.file_type == path.suffix.lstrip(".")
    assert rows["faq.html"].title == "Robot Vacuum FAQ"
    assert rows["guide.docx"].title == "Onboarding Guide"
    assert rows["release.txt"].relpath == "notes/release.txt"

    top = harness.components.index.search_summaries(
        harness.info, harness.embedder.embed_query("robot vacuum battery charging"), k=1
    )
    assert top[0].summary.source == str(corpus["html"])


def test_reingest_is_a_noop(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    first = harness.run(tmp_path / "docs")
    versions = harness.versions()
    counts = harness.chroma_counts()

    again = harness.run(tmp_path / "docs")
    assert statuses(again) == {"unchanged": 7}
    assert again.new_chunks == 0 and harness.embedder.calls == 0
    assert (again.documents, again.chunks) == (first.documents, first.chunks)
    assert harness.versions() == versions
    assert harness.chroma_counts() == counts


def test_touched_file_is_unchanged(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    harness.run(tmp_path / "docs")
    versions = harness.versions()
    later = corpus["md"].stat().st_mtime + 3600
    set_mtime(corpus["md"], later)

    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"unchanged": 7}
    assert harness.embedder.calls == 0 and harness.versions() == versions
    row = next(r for r in harness.components.catalog.documents(COLLECTION) if r.source == str(corpus["md"]))
    assert row.mtime == later  # remembered, so the next run skips it without hashing
    assert statuses(harness.run(tmp_path / "docs")) == {"unchanged": 7}


def test_changed_file_is_replaced(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    harness.run(tmp_path / "docs")
    before = harness.versions()
    old_sentence = "Unused vacation days expire at the end of March."
    new_sentence = "Employees may take a sabbatical after seven years of service."
    corpus["md"].write_text(corpus["md"].read_text().replace(old_sentence, new_sentence), encoding="utf-8")

    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"updated": 1, "unchanged": 6}
    updated = next(o for o in report.outcomes if o.status == "updated")
    assert updated.path == str(corpus["md"]) and updated.chunks == report.new_chunks > 0
    after = harness.versions()
    assert after[str(corpus["md"])] != before[str(corpus["md"])]
    assert {k: v for k, v in after.items() if k != str(corpus["md"])} == {
        k: v for k, v in before.items() if k != str(corpus["md"])
    }

    assert harness.lexical("expire March") == set()
    assert harness.lexical("sabbatical") == {str(corpus["md"])}
    assert not any("expire at the end of March" in t for t in harness.dense_texts(old_sentence))
    assert any("sabbatical" in t for t in harness.dense_texts(new_sentence, k=3))
    assert "expire at the end of March" not in harness.all_chunk_texts()
    harness.assert_consistent()


def test_deleted_file_is_pruned(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    harness.run(tmp_path / "docs")
    corpus["txt"].unlink()

    kept = harness.run(tmp_path / "docs")  # without --prune the document stays
    assert statuses(kept) == {"unchanged": 6}
    assert harness.lexical("Falconer") == {str(corpus["txt"])}

    report = harness.run(tmp_path / "docs", prune=True)
    assert statuses(report) == {"unchanged": 6, "removed": 1}
    removed = next(o for o in report.outcomes if o.status == "removed")
    assert removed.path == str(corpus["txt"])
    assert report.documents == 6
    assert harness.lexical("Falconer") == set()
    assert not any("Falconer" in t for t in harness.dense_texts("Falconer scheduler quiet hours"))
    summaries = harness.components.index.search_summaries(
        harness.info, harness.embedder.embed_query("Falconer release notes"), k=10
    )
    assert str(corpus["txt"]) not in {s.summary.source for s in summaries}
    harness.assert_consistent()
    assert statuses(harness.run(tmp_path / "docs", prune=True)) == {"unchanged": 6}


def test_prune_only_touches_the_given_paths(harness: Harness, tmp_path: Path) -> None:
    docs = write_corpus(tmp_path / "docs")
    old = tmp_path / "docs-old"  # a sibling whose name starts with the other folder's name
    old.mkdir()
    (old / "legacy.md").write_text(
        "# Legacy\n\nThe legacy mainframe was retired in 2019.\n", encoding="utf-8"
    )
    (old / "archive.md").write_text(
        "# Archive\n\nOld invoices are archived for ten years.\n", encoding="utf-8"
    )
    assert statuses(harness.run(tmp_path / "docs", old)) == {"added": 9}

    (old / "legacy.md").unlink()
    docs["txt"].unlink()
    only_handbook = harness.run(docs["md"], prune=True)  # a file PATH prunes nothing but itself
    assert statuses(only_handbook) == {"unchanged": 1}
    report = harness.run(tmp_path / "docs", prune=True)
    assert statuses(report) == {"unchanged": 6, "removed": 1}
    assert harness.lexical("mainframe") == {str((old / "legacy.md").resolve())}  # not under docs/

    report = harness.run(old, prune=True)
    assert statuses(report) == {"unchanged": 1, "removed": 1}
    assert harness.lexical("mainframe") == set()
    assert harness.lexical("invoices archived") == {str((old / "archive.md").resolve())}
    harness.assert_consistent()


def _bad_inputs(folder: Path, scratch: Path) -> dict[str, Path]:
    fx = fixtures_module()
    folder.mkdir()
    scratch.mkdir()
    bad = {
        "truncated": folder / "truncated.pdf",
        "encrypted": fx.make_encrypted_pdf(folder),
        "scanned": fx.make_scanned_pdf(folder),
        "empty": folder / "empty.txt",
        "blank": folder / "blank.md",
        "junk": folder / "junk.txt",
        "exe": folder / "program.exe",
    }
    fx.make_corrupt_pdf(scratch).rename(bad["truncated"])
    bad["empty"].write_bytes(b"")
    bad["blank"].write_text("   \n\n \t \n", encoding="utf-8")
    bad["junk"].write_bytes(bytes(range(256)) * 8 + b"\x00" * 64)
    bad["exe"].write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    return {k: p.resolve() for k, p in bad.items()}


def test_bad_inputs_are_reported_and_the_rest_is_ingested(
    harness: Harness, corpus: dict[str, Path], tmp_path: Path
) -> None:
    bad = _bad_inputs(tmp_path / "docs" / "bad", tmp_path / "scratch")
    failed = {"truncated", "encrypted", "junk"}
    skipped = {"scanned", "empty", "blank", "exe"}
    if os.geteuid() != 0:  # root reads any file
        bad["unreadable"] = tmp_path / "docs" / "bad" / "secret.txt"
        bad["unreadable"].write_text("the payroll", encoding="utf-8")
        bad["unreadable"].chmod(0)
        failed.add("unreadable")

    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"added": 7, "failed": len(failed), "skipped": len(skipped)}
    assert not report.ok and report.documents == 7
    outcomes = {o.path: o for o in report.outcomes}
    for kind in failed | skipped:
        outcome = outcomes[str(bad[kind])]
        assert outcome.status == ("failed" if kind in failed else "skipped"), kind
        assert outcome.error and "\n" not in outcome.error, kind
    assert "password" in outcomes[str(bad["encrypted"])].error
    assert "unsupported" in outcomes[str(bad["exe"])].error
    assert "empty" in outcomes[str(bad["empty"])].error
    assert {f["path"] for f in report.to_json()["failures"]} == {str(bad[k]) for k in failed | skipped}
    assert harness.lexical("vacation") == {str(corpus["md"])}
    harness.assert_consistent()

    # failures are in the manifest, not live, and retried on the next run; good files stay unchanged
    rows = {r.source: r for r in harness.components.catalog.documents(COLLECTION)}
    for kind in failed:
        assert rows[str(bad[kind])].error and rows[str(bad[kind])].version is None
    again = harness.run(tmp_path / "docs")
    assert statuses(again) == {"unchanged": 7, "failed": len(failed), "skipped": len(skipped)}
    assert harness.embedder.calls == 0


def test_a_file_that_turns_bad_keeps_or_drops_its_old_version(
    harness: Harness, corpus: dict[str, Path], tmp_path: Path
) -> None:
    harness.run(tmp_path / "docs")
    corpus["txt"].write_bytes(b"\x00\x01\x02 binary junk " * 40)  # now unreadable as text: failed
    corpus["md"].write_bytes(b"")  # now empty: skipped, nothing left to index

    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"unchanged": 5, "failed": 1, "skipped": 1}
    assert harness.lexical("Falconer") == {str(corpus["txt"])}  # a failed re-read keeps the live version
    assert harness.lexical("vacation") == set()
    harness.assert_consistent()


def test_changed_chunking_setting_reprocesses_unchanged_files(
    harness: Harness, corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_md = tmp_path / "docs" / "long.md"
    long_md.write_text(
        "# Long\n\n" + " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(120)),
        encoding="utf-8",
    )
    first = harness.run(tmp_path / "docs")
    assert statuses(first) == {"added": 8}

    monkeypatch.setenv("RAG_CHUNKING__CHUNK_TOKENS", "48")
    monkeypatch.setenv("RAG_CHUNKING__OVERLAP_TOKENS", "8")
    harness.reload_settings()
    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"updated": 8}
    assert report.chunks > first.chunks and harness.embedder.calls > 0
    long_doc = next(
        d for d in harness.components.catalog.documents(COLLECTION) if d.source.endswith("long.md")
    )
    long_chunks = harness.components.catalog.chunks_of(COLLECTION, long_doc.doc_id)
    assert len(long_chunks) >= 10
    assert max(c.tokens for c in long_chunks) <= 48 + 24  # chunk size plus at most one merged fragment
    harness.assert_consistent()
    assert statuses(harness.run(tmp_path / "docs")) == {"unchanged": 8}


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("LEXICAL_VERSION", LEXICAL_VERSION),
        ("CHUNKER_VERSION", CHUNKER_VERSION),
        ("PARSER_VERSION", PARSER_VERSION),
    ],
)
def test_a_new_tokenizer_chunker_or_parser_version_reindexes_unchanged_files(
    harness: Harness,
    corpus: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    version: int,
) -> None:
    harness.run(tmp_path / "docs")
    monkeypatch.setattr(f"ingest.pipeline.{name}", version + 1)
    harness.reload_settings()
    assert statuses(harness.run(tmp_path / "docs")) == {"updated": len(corpus)}
    harness.assert_consistent()


def test_every_chunk_carries_correct_metadata(
    harness: Harness, corpus: dict[str, Path], tmp_path: Path
) -> None:
    pdf = write_pdf(tmp_path / "docs" / "plant.pdf", "Riverside Plant Report", PDF_PAGES).resolve()
    report = harness.run(tmp_path / "docs")
    assert statuses(report) == {"added": 8}
    catalog, index, info = harness.components.catalog, harness.components.index, harness.info
    chunking = harness.components.settings.chunking
    longest_chunk = max(chunking.chunk_tokens, getattr(chunking, "cjk_chunk_tokens", 0))
    max_tokens = longest_chunk + chunking.min_chunk_tokens  # a chunk plus at most a merged tiny fragment
    by_name: dict[str, list] = {}
    for row in catalog.documents(COLLECTION):
        path = Path(row.source)
        doc = load_file(path)
        chunks = catalog.chunks_of(COLLECTION, row.doc_id)
        assert [c.index for c in chunks] == list(range(row.chunk_count))
        for c in chunks:
            assert c.collection == COLLECTION and c.doc_id == row.doc_id and c.version == row.version
            assert c.id == f"{row.doc_id}:{row.version}:{c.index}"
            assert c.source == str(path) and path.is_absolute()
            assert c.title == doc.title == row.title
            assert c.file_type == doc.file_type
            assert c.text.strip() and c.text == c.text.strip()  # no empty chunks, no padding
            assert doc.text[c.start : c.end] == c.text  # the span indexes the document text
            assert c.hash == hashlib.blake2b(c.text.encode(), digest_size=12).hexdigest()
            assert 0 < c.tokens <= max_tokens
            # page and heading path: those of the section where the chunk starts / one it overlaps
            assert c.page == section_at(doc, c.start).page
            assert c.section in {" > ".join(s.headings) for s in sections_between(doc, c.start, c.end)}
        # Chroma holds the same chunks with the same metadata
        vector = harness.embedder.embed_query(doc.title)
        dense = sorted(
            index.search_chunks(info, vector, k=50, doc_ids=[row.doc_id]), key=lambda h: h.chunk.index
        )
        assert [h.chunk for h in dense] == chunks
        summary = index.search_summaries(info, vector, k=1, doc_ids=[row.doc_id])[0].summary
        assert (summary.title, summary.source, summary.chunk_count) == (doc.title, str(path), len(chunks))
        assert summary.version == row.version and summary.strategy == "extractive"
        by_name[path.name] = chunks

    def chunk_with(name: str, needle: str):
        return next(c for c in by_name[name] if needle in c.text)

    assert chunk_with("plant.pdf", "bicycle frames").page == 1
    assert chunk_with("plant.pdf", "Porto").page == 2
    assert chunk_with("plant.pdf", "Cut-resistant").page == 3
    assert chunk_with("plant.pdf", "Porto").section.endswith("Sprocket Supply")
    assert all(c.page is None for name, cs in by_name.items() if name != "plant.pdf" for c in cs)
    assert chunk_with("handbook.md", "vacation days").section == "Employee Handbook > Leave Policy"
    assert chunk_with("faq.html", "ninety minutes").section == "Robot Vacuum FAQ > Battery"
    assert chunk_with("guide.docx", "helpdesk").section.endswith("Accounts")
    assert pdf.name in by_name


ZH_SENTENCES = [
    "员工每年享有十五天带薪年假，需提前两周向直属主管申请。",
    "未休完的年假可以顺延到下一年第一季度，逾期作废！",
    "病假需要二级以上医院开具的诊断证明；",
    "加班时间可以按一比一的比例调休。",
    "调休需在三个月内使用完毕，否则视为自动放弃？",
    "婚假为十天，产假按照国家规定执行。",
]


def test_chinese_sentence_boundaries_are_respected(harness: Harness, tmp_path: Path) -> None:
    folder = tmp_path / "zh"
    folder.mkdir()
    body = "".join(ZH_SENTENCES[i % len(ZH_SENTENCES)] for i in range(60))
    path = (folder / "制度.txt").resolve()
    path.write_text("员工假期制度\n\n" + body, encoding="utf-8")
    report = harness.run(folder)
    assert statuses(report) == {"added": 1}
    row = harness.components.catalog.documents(COLLECTION)[0]
    chunks = harness.components.catalog.chunks_of(COLLECTION, row.doc_id)
    assert len(chunks) >= 4
    text = load_file(path).text
    for c in chunks:
        assert c.text and text[c.start : c.end] == c.text
        assert re.search(r"[。！？；]$", c.text), c.text[-20:]  # ends at a sentence end
        assert c.start == 0 or text[c.start - 1] in "。！？；\n", c.text[:20]  # starts at a sentence start
    assert any(b.start < a.end for a, b in itertools.pairwise(chunks))  # sentences shared
    assert harness.lexical("婚假") == {str(path)}


def test_collections_are_separate(harness: Harness, corpus: dict[str, Path], tmp_path: Path) -> None:
    harness.run(tmp_path / "docs")
    other = harness.run(corpus["md"], collection="产品手册")
    assert statuses(other) == {"added": 1} and other.collection == "产品手册"
    assert other.documents == 1
    assert harness.components.catalog.counts(COLLECTION)["documents"] == 7
    shutil.rmtree(tmp_path / "docs" / "notes")
    assert statuses(harness.run(corpus["md"], collection="产品手册", prune=True)) == {"unchanged": 1}


def test_the_embedder_can_be_shared_by_the_loader_thread_and_the_embedding_thread() -> None:
    embedder = shared_embedder()
    texts = [" ".join(["word"] * n) for n in range(3, 67)]
    errors: list[Exception] = []
    stop = threading.Event()

    def count_tokens() -> None:  # what the chunker does in the pipeline's loader thread
        while not stop.is_set():
            try:
                embedder.token_lengths(texts[:8])
                embedder.token_spans(texts[-1])
            except Exception as exc:
                errors.append(exc)

    thread = threading.Thread(target=count_tokens, daemon=True)
    thread.start()
    try:
        for _ in range(100):  # it fails within a few calls
            vectors = embedder.embed_array(texts)  # what _flush does in the main thread
            assert vectors.shape == (len(texts), embedder.dimension)
    finally:
        stop.set()
        thread.join()
    assert not errors


def test_the_same_upload_name_through_another_data_dir_replaces_the_document(
    harness: Harness, tmp_path: Path
) -> None:
    """Two API hosts with their own data dirs on one catalog: a file uploaded under the same name through
    either is one document, replaced in place; a folder that only looks like an upload folder is not."""
    shifts = {
        tmp_path / "host-a": "The night shift at the Verrin depot starts at 22:00 and ends at 06:00.",
        tmp_path / "host-b": "The night shift at the Verrin depot starts at 23:00 and ends at 07:00.",
    }
    paths = []
    for data_dir, text in shifts.items():
        path = upload_folder(data_dir, COLLECTION) / "shifts.md"
        path.parent.mkdir(parents=True)
        path.write_text(f"# Shifts\n\n{text}\n")
        paths.append(path)
    first = harness.run(paths[0])
    second = harness.run(paths[1])
    assert [o.status for o in second.outcomes] == ["updated"]
    rows = harness.components.catalog.documents(COLLECTION)
    assert [(r.doc_id, r.source) for r in rows] == [(first.outcomes[0].doc_id, str(paths[1]))]
    texts = harness.all_chunk_texts()
    assert "23:00" in texts and "22:00" not in texts
    harness.assert_consistent()

    lookalike = tmp_path / "notes" / "uploads" / "kb" / "shifts.md"
    lookalike.parent.mkdir(parents=True)
    lookalike.write_text("# Shifts\n\nThe day shift at the Verrin depot starts at 08:00.\n")
    assert [o.status for o in harness.run(lookalike).outcomes] == ["added"]
    assert len(harness.components.catalog.documents(COLLECTION)) == 2
