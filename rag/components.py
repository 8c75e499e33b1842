"""The composition root: every component built from one `Settings`, lazily. The CLI and the API both
use it, and nothing is built at import time, so tests build their own with their own settings.

    components = Components(load_settings())
    report = components.ingest_pipeline().run([Path("docs")], "default")
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from rag_core.settings import Settings
from rag_models.embeddings import SentenceTransformerEmbedder
from vectorstore.catalog import Catalog
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import TwoLevelIndex

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline
    from rag.query.pipeline import QueryPipeline
    from rag.query.rerank import Reranker
    from rag_models.llm.base import LLM


class Components:
    """`embedder`, `index` and `reranker` may be given (tests share loaded models and stores);
    the rest is built from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: SentenceTransformerEmbedder | None = None,
        index: TwoLevelIndex | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self._given_embedder, self._given_index, self._given_reranker = embedder, index, reranker
        self._lock = threading.RLock()
        self._llm: LLM | None = None
        self._query_pipeline: QueryPipeline | None = None

    @cached_property
    def embedder(self) -> SentenceTransformerEmbedder:
        return self._given_embedder or SentenceTransformerEmbedder.from_settings(
            self.settings.embedding, self.settings.data_dir
        )

    @cached_property
    def catalog(self) -> Catalog:
        if self._given_index:
            return self._given_index.catalog
        return Catalog(self.settings.database_at("catalog.sqlite3"))

    @cached_property
    def chroma(self) -> ChromaStore:
        if self._given_index:
            return self._given_index.chroma
        chroma = self.settings.chroma
        return ChromaStore(
            url=chroma.url,
            path=self.settings.data_dir / "chroma",
            tenant=chroma.tenant,
            database=chroma.database,
        )

    @cached_property
    def index(self) -> TwoLevelIndex:
        return self._given_index or TwoLevelIndex(self.catalog, self.chroma)

    def llm(self) -> LLM:
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    from rag_models.llm.factory import build_llm

                    self._llm = build_llm(self.settings.llm)
        return self._llm

    def ingest_pipeline(self) -> IngestPipeline:
        from ingest.chunking import Chunker
        from ingest.pipeline import IngestPipeline
        from ingest.summaries import ExtractiveSummarizer, LLMSummarizer, Summarizer

        chunking = self.settings.chunking
        summary = self.settings.summary
        summarizer: Summarizer
        if summary.strategy == "llm":
            summarizer = LLMSummarizer(self.llm(), part_tokens=summary.llm_part_tokens)
        else:
            summarizer = ExtractiveSummarizer(self.embedder, max_tokens=summary.max_tokens)
        return IngestPipeline(
            index=self.index,
            embedder=self.embedder,
            chunker=Chunker(
                self.embedder,
                chunk_tokens=chunking.chunk_tokens,
                overlap_tokens=chunking.overlap_tokens,
                min_chunk_tokens=chunking.min_chunk_tokens,
                cjk_chunk_tokens=chunking.cjk_chunk_tokens,
            ),
            summarizer=summarizer,
            settings=self.settings,
        )

    def query_pipeline(self) -> QueryPipeline:
        """The one query pipeline of these components, built on first use: its caches (titles, scripts
        of the documents) live until their collection changes, not one request."""
        if self._query_pipeline is None:
            with self._lock:
                if self._query_pipeline is None:
                    self._query_pipeline = self._build_query_pipeline()
        return self._query_pipeline

    def _build_query_pipeline(self) -> QueryPipeline:
        from rag.query.compress import ContextCompressor
        from rag.query.pipeline import QueryPipeline
        from rag.query.retrieve import HybridRetriever

        return QueryPipeline(
            settings=self.settings,
            index=self.index,
            retriever=HybridRetriever(self.index, self.embedder, self.settings.retrieval),
            reranker=self.reranker,
            compressor=ContextCompressor(self.embedder),
            llm=self.llm,
        )

    @cached_property
    def reranker(self) -> Reranker:
        from rag.query.rerank import build_reranker

        return self._given_reranker or build_reranker(self.settings.rerank)
