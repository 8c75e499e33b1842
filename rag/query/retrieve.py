"""Two-level hybrid retrieval.

1. Summary level: dense and BM25 search over document summaries pick the most relevant documents.
2. Chunk level: dense and BM25 search over the chunks of those documents, and over all chunks (so a
   weak summary cannot hide the answer).
3. Weighted reciprocal-rank fusion of the chunk lists, plus a prior for chunks of documents the
   summary level ranked high. Dense lists are weighted by how well the embedder reads the question.
4. Across Chinese and English: in a collection that mixes them, passages in the other language than the
   question's join the dense ranking with the embedder's language gap added to their similarity, and
   BM25 searches them for the question's words translated by dictionary (rag/query/translate.py).

Filters resolve to a set of documents in the catalog and restrict every search.

    retriever = HybridRetriever(index, embedder, settings.retrieval)
    candidates = retriever.retrieve(info, "How many points ...?", Filters(), disabled=frozenset())
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.query.expand import NO_EXPANSION, Expansion
from rag.query.fusion import weighted_rrf
from rag.query.request import Filters, Stage
from rag.query.translate import TermTranslator
from rag_core.query_settings import RetrievalSettings
from rag_core.tokens import script_of
from rag_core.types import ScoredChunk, ScoredSummary
from rag_models.bundled import BUNDLED_E5_LANGUAGE_GAP
from rag_models.e5_bundled import E5_NAME
from rag_models.embeddings import Embedder
from vectorstore.index import TwoLevelIndex
from vectorstore.records import CollectionInfo
from vectorstore.scripts import DocumentScripts, ScriptGroup
from vectorstore.titles import TitleIndex


@dataclass(slots=True)
class Retrieval:
    chunks: list[ScoredChunk]  # fused, best first
    documents: list[ScoredSummary]  # the summary level's pick, best first
    dense_weight: float


class HybridRetriever:
    def __init__(self, index: TwoLevelIndex, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.titles = TitleIndex(index.catalog)
        self.scripts = DocumentScripts(index.catalog)

    def allowed_documents(self, info: CollectionInfo, filters: Filters) -> list[str] | None:
        if filters.empty:
            return None
        return self.index.catalog.filtered_doc_ids(
            info.name,
            source_prefix=filters.source_prefix,
            file_types=filters.file_types,
            modified_after=filters.modified_after,
            modified_before=filters.modified_before,
        )

    def retrieve(
        self,
        info: CollectionInfo,
        query: str,
        filters: Filters,
        disabled: frozenset[Stage] = frozenset(),
        expansion: Expansion = NO_EXPANSION,
    ) -> Retrieval:
        allowed = self.allowed_documents(info, filters)
        use_dense = "dense" not in disabled
        use_lexical = "lexical" not in disabled
        dense_weight = self.embedder.coverage(query) ** 2 if use_dense else 0.0
        vector = self.embedder.embed_array([query], query=True)[0] if dense_weight > 0 else None

        documents: list[ScoredSummary] = []
        if "summaries" not in disabled and self.settings.summary_docs > 0:
            documents = self._pick_documents(info, query, vector, dense_weight, allowed, use_lexical)

        scopes: list[list[str] | None] = [allowed]
        if documents:
            scopes.append([d.summary.doc_id for d in documents])
        dense_hits, lexical_hits = self._in_scopes(info, scopes, vector, query if use_lexical else None)
        # One ranking per retriever: the in-document searches only reach deeper into the picked
        # documents; scores of one retriever are comparable across its searches.
        own = script_of(query)
        groups = self.scripts.groups(info)
        if vector is not None:
            dense_hits += self._in_other_scripts(info, groups, own, vector, allowed)
        if use_lexical and self.settings.translate:
            lexical_hits += self._translated(info, groups, own, query, allowed)
        rankings: list[tuple[Sequence[ScoredChunk], float]] = [
            (self._dense_ranking(dense_hits, own), dense_weight),
            (_by_score(lexical_hits, "lexical", "translated"), 1.0),
        ]
        if documents and self.settings.document_weight > 0:
            doc_rank = {d.summary.doc_id: r for r, d in enumerate(documents)}
            candidates = {h.chunk.id: h for h in dense_hits + lexical_hits if h.chunk.doc_id in doc_rank}
            by_doc = sorted(candidates.values(), key=lambda h: doc_rank[h.chunk.doc_id])
            rankings.append((by_doc, self.settings.document_weight))
        # the expansions' scores measure LLM-written text, not the question: they rank but do not
        # count as evidence (components)
        expanded = self._expanded(info, expansion, scopes, use_dense, use_lexical)
        fused = weighted_rrf(rankings + expanded, key=lambda h: h.chunk.id)
        if fused and self.settings.link_weight > 0 and "links" not in disabled:
            linked = self._linked(
                info, query, [h for h, _ in fused[: self.settings.link_sources]], allowed, use_lexical, vector
            )
            if linked:
                rankings.append((linked, self.settings.link_weight))
                fused = weighted_rrf(rankings + expanded, key=lambda h: h.chunk.id)
        components = _component_scores(rankings)
        results = [
            ScoredChunk(hit.chunk, score, {**components.get(hit.chunk.id, {}), "fused": score})
            for hit, score in fused
        ]
        return Retrieval(results, documents, dense_weight)

    def _expanded(
        self,
        info: CollectionInfo,
        expansion: Expansion,
        scopes: list[list[str] | None],
        use_dense: bool,
        use_lexical: bool,
    ) -> list[tuple[Sequence[ScoredChunk], float]]:
        """One ranking per other phrasing (dense and BM25) and one for the hypothetical answer (dense:
        its words are guesses, its meaning is the point), each at the expansion weight."""
        weight = self.settings.expansion_weight
        rankings: list[tuple[Sequence[ScoredChunk], float]] = []
        texts = [(q, True) for q in expansion.queries]
        if expansion.hypothetical:
            texts.append((expansion.hypothetical, False))
        for text, is_query in texts:
            dense_weight = self.embedder.coverage(text) ** 2 if use_dense else 0.0
            vector = self.embedder.embed_array([text], query=is_query)[0] if dense_weight > 0 else None
            lexical_text = text if is_query and use_lexical else None
            dense_hits, lexical_hits = self._in_scopes(info, scopes, vector, lexical_text)
            if vector is not None:
                rankings.append((_by_score(dense_hits, "dense"), weight * dense_weight))
            if lexical_text is not None:
                rankings.append((_by_score(lexical_hits, "lexical"), weight))
        return rankings

    def language_gap(self) -> float:
        """How much higher the embedder scores a passage in the question's language than the same passage
        in the other: the setting, else the bundled multilingual model's measured gap, else 0."""
        if self.settings.language_gap is not None:
            return self.settings.language_gap
        return BUNDLED_E5_LANGUAGE_GAP if self.embedder.model_name == E5_NAME else 0.0

    def _dense_ranking(self, hits: list[ScoredChunk], own: str) -> list[ScoredChunk]:
        """One dense ranking over both languages: a passage in the other script than the question's is
        ranked by its similarity plus the embedder's language gap, so that it competes on meaning (the
        component score stays the raw similarity)."""
        gap = self.language_gap()
        ranked = _by_score(hits, "dense")
        if not gap:
            return ranked

        def calibrated(h: ScoredChunk) -> float:
            return h.scores["dense"] + (gap if script_of(h.chunk.text) != own else 0.0)

        return sorted(ranked, key=calibrated, reverse=True)

    def _in_other_scripts(
        self,
        info: CollectionInfo,
        groups: dict[str, ScriptGroup],
        own: str,
        vector: Sequence[float],
        allowed: list[str] | None,
    ) -> list[ScoredChunk]:
        """In a collection that mixes scripts (vectorstore/scripts.py), dense hits among the documents of
        each script other than the question's that the embedder reads: a multilingual embedder scores
        passages in the question's own language higher whatever they say, so the best ones in the other
        language may not be among the collection-wide hits at all."""
        if len(groups) < 2:
            return []
        permitted = None if allowed is None else set(allowed)
        hits: list[ScoredChunk] = []
        for script, group in sorted(groups.items()):
            scope = [d for d in group.doc_ids if permitted is None or d in permitted]
            if script != own and scope and self.embedder.coverage(group.sample) > 0.5:
                hits += self.index.search_chunks(info, vector, self.settings.candidates, scope)
        return hits

    def _translated(
        self,
        info: CollectionInfo,
        groups: dict[str, ScriptGroup],
        own: str,
        query: str,
        allowed: list[str] | None,
    ) -> list[ScoredChunk]:
        """BM25 hits of the question's words translated by dictionary, among the documents in the other
        script (Chinese <-> English): BM25 cannot cross languages, a dictionary takes it across. They
        join the question's own BM25 hits by score (one index, comparable scores)."""
        other = [d for script, group in groups.items() if script != own for d in group.doc_ids]
        if not other:
            return []
        translated = TermTranslator.bundled().translate(query)
        if not translated:
            return []
        scope: list[str] | None = other if own in groups else allowed
        if scope is not None and allowed is not None:
            permitted = set(allowed)
            scope = [d for d in scope if d in permitted]
        return [
            ScoredChunk(h.chunk, h.score, {"translated": h.score})
            for h in self.index.lexical_chunks(info, translated, self.settings.candidates, scope)
        ]

    def _in_scopes(
        self,
        info: CollectionInfo,
        scopes: list[list[str] | None],
        vector: Sequence[float] | None,
        text: str | None,
    ) -> tuple[list[ScoredChunk], list[ScoredChunk]]:
        """Dense hits for `vector` and BM25 hits for `text` (each skipped when None) in every scope."""
        k = self.settings.candidates
        dense: list[ScoredChunk] = []
        lexical: list[ScoredChunk] = []
        for scope in scopes:
            if vector is not None:
                dense += self.index.search_chunks(info, vector, k, scope)
            if text is not None:
                lexical += self.index.lexical_chunks(info, text, k, scope)
        return dense, lexical

    def _linked(
        self,
        info: CollectionInfo,
        query: str,
        top: list[ScoredChunk],
        allowed: list[str] | None,
        use_lexical: bool,
        vector: Sequence[float] | None,
    ) -> list[ScoredChunk]:
        """Chunks of documents that the best passages mention by title, best match to the question
        first: questions often need the document a passage refers to (a film named in a town's page)."""
        own = {h.chunk.doc_id for h in top}
        mentioned: set[str] = set()
        for hit in top:
            mentioned |= self.titles.mentioned(info, hit.chunk.text)
        targets = sorted(mentioned - own)
        if allowed is not None:
            targets = [d for d in targets if d in set(allowed)]
        if not targets:
            return []
        k = self.settings.candidates
        hits: list[ScoredChunk] = []
        if use_lexical:
            hits += self.index.lexical_chunks(info, query, k, targets)
        if vector is not None and not hits:
            hits += self.index.search_chunks(info, vector, k, targets)
        return hits

    def _pick_documents(
        self,
        info: CollectionInfo,
        query: str,
        vector: Sequence[float] | None,
        dense_weight: float,
        allowed: list[str] | None,
        use_lexical: bool,
    ) -> list[ScoredSummary]:
        n = self.settings.summary_docs
        rankings: list[tuple[Sequence[ScoredSummary], float]] = []
        if vector is not None:
            rankings.append((self.index.search_summaries(info, vector, n * 2, allowed), dense_weight))
        if use_lexical:
            rankings.append((self.index.lexical_summaries(info, query, n * 2, allowed), 1.0))
        fused = weighted_rrf(rankings, key=lambda s: s.summary.doc_id)
        return [ScoredSummary(s.summary, score) for s, score in fused[:n]]


def _by_score(hits: list[ScoredChunk], *names: str) -> list[ScoredChunk]:
    """Each chunk once, by its best score under the first of `names` it has, best first."""

    def value(h: ScoredChunk) -> float:
        return next(h.scores[n] for n in names if n in h.scores)

    best: dict[str, ScoredChunk] = {}
    for h in hits:
        if h.chunk.id not in best or value(h) > value(best[h.chunk.id]):
            best[h.chunk.id] = h
    return sorted(best.values(), key=value, reverse=True)


def _component_scores(rankings: Sequence[tuple[Sequence[ScoredChunk], float]]) -> dict[str, dict[str, float]]:
    """Each chunk's best score per retriever (dense, lexical) across the lists it appeared in."""
    scores: dict[str, dict[str, float]] = {}
    for ranking, _ in rankings:
        for hit in ranking:
            mine = scores.setdefault(hit.chunk.id, {})
            for name, value in hit.scores.items():
                mine[name] = max(mine.get(name, value), value)
    return scores
