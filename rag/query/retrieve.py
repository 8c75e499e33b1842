"""Two-level hybrid retrieval.

1. Summary level: dense and BM25 search over document summaries pick the most relevant documents.
2. Chunk level: dense and BM25 search over the chunks of those documents, and over all chunks (so a
   weak summary cannot hide the answer).
3. Weighted reciprocal-rank fusion of the chunk lists, plus a prior for chunks of documents the
   summary level ranked high. Dense lists are weighted by how well the embedder reads the question.

Filters resolve to a set of documents in the catalog and restrict every search.

    retriever = HybridRetriever(index, embedder, settings.retrieval)
    candidates = retriever.retrieve(info, "How many points ...?", Filters(), disabled=frozenset())
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.embeddings import Embedder
from rag.query.expand import NO_EXPANSION, Expansion
from rag.query.fusion import weighted_rrf
from rag.query.request import Filters, Stage
from rag.query.translate import TermTranslator
from rag.settings import RetrievalSettings
from rag.types import ScoredChunk, ScoredSummary
from vectorstore.catalog import CollectionInfo
from vectorstore.index import TwoLevelIndex
from vectorstore.lexical_tokens import script_of
from vectorstore.scripts import DocumentScripts
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
        rankings: list[tuple[Sequence[ScoredChunk], float]] = [
            (_by_score(dense_hits, "dense"), dense_weight),
            (_by_score(lexical_hits, "lexical"), 1.0),
        ]
        if vector is not None:
            rankings += self._other_scripts(info, query, vector, dense_weight, allowed)
        if use_lexical and self.settings.translation_weight > 0:
            rankings += self._translated(info, query, allowed)
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

    def _other_scripts(
        self,
        info: CollectionInfo,
        query: str,
        vector: Sequence[float],
        dense_weight: float,
        allowed: list[str] | None,
    ) -> list[tuple[Sequence[ScoredChunk], float]]:
        """In a collection that mixes scripts (vectorstore/scripts.py), one dense ranking among the
        documents of each script other than the question's, weighted, like every dense ranking, by how
        well the embedder reads what it ranks (nothing for an English-only embedder and Chinese text)."""
        groups = self.scripts.groups(info)
        if len(groups) < 2:
            return []
        own = script_of(query)
        permitted = None if allowed is None else set(allowed)
        rankings: list[tuple[Sequence[ScoredChunk], float]] = []
        for script, group in sorted(groups.items()):
            weight = dense_weight * self.embedder.coverage(group.sample) ** 2
            scope = [d for d in group.doc_ids if permitted is None or d in permitted]
            if script != own and scope and weight > 0:
                hits = self.index.search_chunks(info, vector, self.settings.candidates, scope)
                rankings.append((_by_score(hits, "dense"), weight))
        return rankings

    def _translated(
        self, info: CollectionInfo, query: str, allowed: list[str] | None
    ) -> list[tuple[Sequence[ScoredChunk], float]]:
        """A BM25 ranking of the question's words translated by dictionary, among the documents in the
        other script (Chinese <-> English): BM25 cannot cross languages, a dictionary takes it across.
        Weighted by the other script's share of the documents: the chance, before reading them, that the
        answer is written in the other language (all of them in a collection of the other language)."""
        groups = self.scripts.groups(info)
        own = script_of(query)
        other = [d for script, group in groups.items() if script != own for d in group.doc_ids]
        if not other:
            return []
        share = len(other) / sum(len(g.doc_ids) for g in groups.values())
        translated = TermTranslator.bundled().translate(query)
        if not translated:
            return []
        scope: list[str] | None = other if own in groups else allowed
        if scope is not None and allowed is not None:
            permitted = set(allowed)
            scope = [d for d in scope if d in permitted]
        hits = [
            ScoredChunk(h.chunk, h.score, {"translated": h.score})
            for h in self.index.lexical_chunks(info, translated, self.settings.candidates, scope)
        ]
        return [(_by_score(hits, "translated"), self.settings.translation_weight * share)]

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


def _by_score(hits: list[ScoredChunk], name: str) -> list[ScoredChunk]:
    best: dict[str, ScoredChunk] = {}
    for h in hits:
        if h.chunk.id not in best or h.scores[name] > best[h.chunk.id].scores[name]:
            best[h.chunk.id] = h
    return sorted(best.values(), key=lambda h: h.scores[name], reverse=True)


def _component_scores(rankings: Sequence[tuple[Sequence[ScoredChunk], float]]) -> dict[str, dict[str, float]]:
    """Each chunk's best score per retriever (dense, lexical) across the lists it appeared in."""
    scores: dict[str, dict[str, float]] = {}
    for ranking, _ in rankings:
        for hit in ranking:
            mine = scores.setdefault(hit.chunk.id, {})
            for name, value in hit.scores.items():
                mine[name] = max(mine.get(name, value), value)
    return scores
