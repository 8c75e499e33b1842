"""The ingest pipeline: walk -> (skip unchanged) -> load -> chunk -> summarise -> embed -> write.

    pipeline = IngestPipeline(index=..., embedder=..., chunker=..., summarizer=..., settings=...)
    report = pipeline.run([Path("docs")], "handbook", prune=True)

Files are keyed by path; their content hash decides whether they changed. Unchanged files (same size
and mtime, or same hash) are skipped without reading or embedding. Loading and chunking run one
document ahead in a worker thread while the main thread embeds batches across documents.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunking import CHUNKER_VERSION, ChunkDraft, Chunker
from ingest.identity import doc_id_for, document_key
from ingest.loaders import PARSER_VERSION, load_file
from ingest.report import FileOutcome, IngestReport, Status
from ingest.summaries import Summarizer
from ingest.walk import FoundFile, is_under, walk
from rag_core.errors import DocumentError
from rag_core.settings import Settings
from rag_core.tokens import LEXICAL_VERSION
from rag_core.types import Chunk, DocumentSummary, LoadedDocument
from rag_models.embeddings import Embedder
from vectorstore.index import TwoLevelIndex
from vectorstore.records import CollectionInfo, DocumentRow, DocumentWrite

EMBEDDING_VERSION = 2
"""Bumped when which texts get vectors changes (2: every chunk, also Chinese ones for an English-only
embedder, whose vectors still carry their Latin-script names and numbers for English questions)."""

log = logging.getLogger(__name__)
Progress = Callable[[FileOutcome, int, int], None]
_PREFETCH = 4
_READ_BLOCK = 1 << 20


def file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as fh:
        while block := fh.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def embedding_text(title: str, section: str, text: str) -> str:
    """What the dense index embeds for a chunk: its text under the document title and section."""
    return "\n".join(p for p in (title, section, text) if p)


@dataclass(slots=True)
class _Work:
    found: FoundFile
    source: str
    doc_id: str
    size: int
    mtime: float
    content_hash: str
    previous: DocumentRow | None


@dataclass(slots=True)
class _Prepared:
    work: _Work
    write: DocumentWrite


class IngestPipeline:
    def __init__(
        self,
        *,
        index: TwoLevelIndex,
        embedder: Embedder,
        chunker: Chunker,
        summarizer: Summarizer,
        settings: Settings,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.chunker = chunker
        self.summarizer = summarizer
        self.settings = settings
        self.fingerprint = hashlib.sha1(
            repr(
                (
                    settings.chunking.model_dump(),
                    summarizer.strategy,
                    settings.summary.model_dump(),
                    PARSER_VERSION,
                    CHUNKER_VERSION,
                    LEXICAL_VERSION,
                    EMBEDDING_VERSION,
                    embedder.model_name,
                )
            ).encode()
        ).hexdigest()[:16]

    def open_collection(self, name: str) -> CollectionInfo:
        return self.index.open_collection(
            name, embedder=self.embedder.model_name, dimension=lambda: self.embedder.dimension
        )

    def run(
        self,
        paths: Sequence[Path],
        collection: str,
        *,
        prune: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        found = walk(paths, include_hidden=self.settings.ingest.include_hidden)
        info = self.open_collection(collection)
        report = IngestReport(info.name)
        total = len(found)

        def note(outcome: FileOutcome) -> None:
            report.add(outcome)
            if progress:
                progress(outcome, len(report.outcomes), total)

        with self.index.catalog.writer_lock(info.key):
            info = self.index.collection(info.name)
            if info.embedder != self.embedder.model_name:
                report.reembedded_from = info.embedder
                info = self._rebuild(info)
            self.index.recover(info)
            known = {document_key(row.source, info.name): row for row in self.index.documents(info)}
            work: list[_Work] = []
            for f in found:
                item = self._triage(info, f, known.get(document_key(str(f.path), info.name)), note)
                if item is not None:
                    work.append(item)
            self._process(info, work, note)
            if prune:
                roots = [Path(p).expanduser().resolve() for p in paths]
                seen = {str(f.path) for f in found}
                gone = [r for r in known.values() if r.source not in seen and is_under(r.source, roots)]
                self.index.delete_documents(info, [r.doc_id for r in gone])
                for r in gone:
                    note(FileOutcome(r.source, "removed", doc_id=r.doc_id))
        counts = self.index.catalog.counts(info.name)
        report.documents, report.chunks = counts["documents"], counts["chunks"]
        report.seconds = time.perf_counter() - started
        return report

    def _triage(
        self,
        info: CollectionInfo,
        found: FoundFile,
        previous: DocumentRow | None,
        note: Callable[[FileOutcome], None],
    ) -> _Work | None:
        source = str(found.path)
        doc_id = previous.doc_id if previous else doc_id_for(document_key(source, info.name))
        try:
            st = found.path.stat()
            current = previous is not None and previous.version and previous.fingerprint == self.fingerprint
            if current and previous and previous.size == st.st_size and previous.mtime == st.st_mtime:
                note(FileOutcome(source, "unchanged", doc_id=doc_id))
                return None
            limit = self.settings.ingest.max_file_mb * 1024 * 1024
            if st.st_size > limit:
                raise DocumentError(
                    f"file is {st.st_size / 2**20:.1f} MB, over the {limit / 2**20:g} MB limit",
                    hint="raise RAG_INGEST__MAX_FILE_MB or split the file",
                    skipped=True,
                )
            content_hash = file_hash(found.path)
        except DocumentError as exc:
            note(FileOutcome(source, "skipped", str(exc), doc_id=doc_id))
            return None
        except OSError as exc:
            self._fail(info, found, doc_id, f"cannot read file: {exc.strerror or exc}", note)
            return None
        if current and previous and previous.content_hash == content_hash:
            self.index.catalog.touch(info.name, doc_id, size=st.st_size, mtime=st.st_mtime)
            note(FileOutcome(source, "unchanged", doc_id=doc_id))
            return None
        return _Work(found, source, doc_id, st.st_size, st.st_mtime, content_hash, previous)

    def _fail(
        self,
        info: CollectionInfo,
        found: FoundFile,
        doc_id: str,
        error: str,
        note: Callable[[FileOutcome], None],
    ) -> None:
        self.index.catalog.record_failure(
            info.name,
            doc_id=doc_id,
            source=str(found.path),
            relpath=found.relpath,
            file_type=found.path.suffix.lower().lstrip("."),
            error=error,
        )
        note(FileOutcome(str(found.path), "failed", error, doc_id=doc_id))

    def _process(self, info: CollectionInfo, work: list[_Work], note: Callable[[FileOutcome], None]) -> None:
        batch: list[_Prepared] = []
        for item, result in self._prepared(info, work):
            if isinstance(result, DocumentError):
                if result.skipped:
                    if item.previous and item.previous.version:
                        self.index.delete_documents(info, [item.doc_id])
                    note(FileOutcome(item.source, "skipped", str(result), doc_id=item.doc_id))
                else:
                    self._fail(info, item.found, item.doc_id, str(result), note)
                continue
            batch.append(result)
            if sum(len(p.write.chunks) for p in batch) >= self.settings.ingest.write_batch:
                self._flush(info, batch, note)
                batch = []
        self._flush(info, batch, note)

    def _prepared(
        self, info: CollectionInfo, work: list[_Work]
    ) -> Iterator[tuple[_Work, _Prepared | DocumentError]]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-load") as pool:
            pending: list[tuple[_Work, Future[_Prepared]]] = []
            items = iter(work)
            for item in items:
                pending.append((item, pool.submit(self._prepare, info, item)))
                if len(pending) >= _PREFETCH:
                    break
            while pending:
                item, future = pending.pop(0)
                nxt = next(items, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(self._prepare, info, nxt)))
                try:
                    yield item, future.result()
                except DocumentError as exc:
                    yield item, exc
                except Exception as exc:  # a loader library's bug must not stop the run
                    yield item, DocumentError(f"cannot parse file: {type(exc).__name__}: {exc}")

    def _prepare(self, info: CollectionInfo, item: _Work) -> _Prepared:
        max_bytes = int(self.settings.ingest.max_file_mb * 1024 * 1024)
        doc = load_file(item.found.path, max_bytes=max_bytes)
        drafts = self.chunker.split(doc)
        if not drafts:
            raise DocumentError("no text to index after cleaning", skipped=True)
        version = f"{item.content_hash[:12]}{uuid.uuid4().hex[:8]}"
        chunks = self._chunks(info, item, doc, drafts, version)
        summary = DocumentSummary(
            id=f"{item.doc_id}:{version}:summary",
            collection=info.name,
            doc_id=item.doc_id,
            version=version,
            source=item.source,
            title=doc.title,
            text=self.summarizer.summarize(doc, drafts),
            strategy=self.summarizer.strategy,
            chunk_count=len(chunks),
            file_type=doc.file_type,
        )
        write = DocumentWrite(
            doc_id=item.doc_id,
            source=item.source,
            relpath=item.found.relpath,
            title=doc.title,
            file_type=doc.file_type,
            version=version,
            content_hash=item.content_hash,
            fingerprint=self.fingerprint,
            size=item.size,
            mtime=item.mtime,
            summary=summary,
            chunks=chunks,
            metadata=doc.metadata,
        )
        return _Prepared(item, write)

    def _chunks(
        self, info: CollectionInfo, item: _Work, doc: LoadedDocument, drafts: list[ChunkDraft], version: str
    ) -> list[Chunk]:
        return [
            Chunk(
                id=f"{item.doc_id}:{version}:{i}",
                collection=info.name,
                doc_id=item.doc_id,
                version=version,
                source=item.source,
                title=doc.title,
                text=d.text,
                index=i,
                page=d.page,
                section=d.section,
                start=d.start,
                end=d.end,
                hash=hashlib.blake2b(d.text.encode(), digest_size=12).hexdigest(),
                file_type=doc.file_type,
                tokens=d.tokens,
            )
            for i, d in enumerate(drafts)
        ]

    def _flush(
        self, info: CollectionInfo, batch: list[_Prepared], note: Callable[[FileOutcome], None]
    ) -> None:
        if not batch:
            return
        writes = [p.write for p in batch]
        summary_vectors, chunk_vectors = self._vectors(
            [w.summary for w in writes], [w.chunks for w in writes]
        )
        self.index.write(info, writes, summary_vectors, chunk_vectors)
        for p in batch:
            status: Status = "updated" if p.work.previous and p.work.previous.version else "added"
            note(FileOutcome(p.work.source, status, chunks=len(p.write.chunks), doc_id=p.work.doc_id))

    def _rebuild(self, info: CollectionInfo) -> CollectionInfo:
        """The collection's documents re-embedded with this pipeline's embedder, from the texts the
        catalog holds, so that documents outside this run's paths stay searchable. Files in the run are
        then re-read as usual (their fingerprint names the old embedder), chunked for the new one."""
        log.info(
            "re-embedding collection %r (built with %s) with %s",
            info.name,
            info.embedder,
            self.embedder.model_name,
        )
        return self.index.rebuild(
            info,
            embedder=self.embedder.model_name,
            dimension=self.embedder.dimension,
            vectorize=self._vectors,
            batch_chunks=self.settings.ingest.write_batch,
        )

    def _vectors(
        self, summaries: Sequence[DocumentSummary], chunks: Sequence[Sequence[Chunk]]
    ) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
        """Vectors of documents' summaries and of their chunks, in order."""
        texts = [embedding_text(c.title, c.section, c.text) for cs in chunks for c in cs]
        chunk_vectors: list[np.ndarray | None] = list(self.embedder.embed_array(texts)) if texts else []
        return self._summary_vectors(summaries, [len(cs) for cs in chunks], chunk_vectors), chunk_vectors

    def _summary_vectors(
        self,
        summaries: Sequence[DocumentSummary],
        counts: Sequence[int],
        chunk_vectors: list[np.ndarray | None],
    ) -> list[np.ndarray | None]:
        """One vector per document summary. `centroid` (default): the normalised mean of the
        document's chunk vectors, which costs no embedding (embedding summaries as text nearly doubled
        ingest time for a measured retrieval gain of zero); `text`: the summary text embedded."""
        if self.settings.summary.vector == "text":
            return list(self.embedder.embed_array([s.text for s in summaries]))
        out: list[np.ndarray | None] = []
        start = 0
        for count in counts:
            own = [v for v in chunk_vectors[start : start + count] if v is not None]
            start += count
            if not own:
                out.append(None)
                continue
            mean = np.mean(own, axis=0)
            out.append((mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32))
        return out
