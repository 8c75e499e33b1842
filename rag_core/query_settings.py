"""The query pipeline's settings (`[retrieval]`, `[rerank]`, `[answer]`), nested in the one settings tree
(rag_core/settings.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rag_core.setting_names import Section


class RetrievalSettings(Section):
    summary_docs: int = Field(6, ge=0, description="documents picked at the summary level (0 = skip it)")
    candidates: int = Field(30, ge=1, description="chunks fetched per search (dense/lexical, in-docs/global)")
    rerank_candidates: int = Field(20, ge=1, description="fused chunks passed to the reranker")
    link_weight: float = Field(
        1.0, ge=0, description="fusion weight of documents the best passages mention by title (0 = off)"
    )
    link_sources: int = Field(3, ge=1, description="best passages whose title mentions are followed")
    document_weight: float = Field(
        0.0, ge=0, description="fusion weight of the summary level's document ranking (0 = only widen recall)"
    )
    translate: bool = Field(
        True,
        description="also search documents in the other language (Chinese <-> English) with BM25 for the "
        "question's words translated by dictionary (CC-CEDICT)",
    )
    language_gap: float | None = Field(
        None,
        ge=0,
        le=1,
        description="how much higher the embedder scores a passage in the question's language than the "
        "same passage in the other, added to other-language passages in the dense ranking; None = 0.05 "
        "for the bundled multilingual-e5-small (measured), 0 for other models",
    )
    top_k: int = Field(5, ge=1, description="passages handed on (the context; retrieval_only returns them)")
    passage_chars: int = Field(
        800,
        ge=100,
        description="each of the best chunks grows with its neighbours (whole sentences, same section "
        "and page) into a passage of up to this many characters",
    )
    context_chars: int = Field(
        4000,
        ge=100,
        description="the most characters of all passages together (the naive 4 x 1,000-character chunks)",
    )
    multi_query: int = Field(
        0, ge=0, le=8, description="other phrasings of the question the LLM writes and searches too (0 = off)"
    )
    hyde: bool = Field(
        False, description="also search with a passage the LLM writes to answer the question (HyDE, dense)"
    )
    expansion_weight: float = Field(
        0.5, ge=0, description="fusion weight of each multi-query and HyDE ranking (the question's is 1)"
    )
    rewrite: Literal["auto", "context", "llm", "off"] = Field(
        "auto",
        description="how a follow-up question is read with the conversation: context (searched with the "
        "previous question), llm (the LLM writes a standalone question, checked), off; auto = llm for a "
        "configured model, context for the bundled one. A new topic is always searched as asked",
    )


class RerankSettings(Section):
    model: str = Field(
        "",
        description="sentence-transformers CrossEncoder id or path (e.g. BAAI/bge-reranker-v2-m3); "
        "empty = the built-in lexical+dense sentence reranker (no model download)",
    )
    device: str = Field("cpu", description="torch device for the cross-encoder: cpu, cuda, auto")
    batch_size: int = Field(16, ge=1)
    proximity_weight: float = Field(
        1.0,
        ge=0,
        description="without a model: weight of the built-in best-sentence-window reranker (0 = off)",
    )

    corroboration_weight: float = Field(
        0.5,
        ge=0,
        description="weight of the second ranking by how many other documents restate a candidate's "
        "sentences about the question (0 = off)",
    )
    corroboration_similarity: float = Field(
        0.35,
        gt=0,
        le=1,
        description="two sentences restate each other when this share of their content words (beyond "
        "the question's) is shared (Jaccard)",
    )


class AnswerSettings(Section):
    context_tokens: int = Field(
        0,
        ge=0,
        description="token budget for the evidence in the prompt (embedder tokens); passages that do not "
        "fit are cut to contiguous windows around their best sentences. 0 = derived from the LLM: half of "
        "its context window left after the answer budget, or the measured budget of the bundled model",
    )
    max_new_tokens: int = Field(160, ge=1, description="answer length limit in tokens")
    min_support: float = Field(
        0,
        ge=0,
        le=1,
        description="share of an answer sentence's claim words that one sentence of its cited source must "
        "hold; 0 = derived: 0.5, or 0.8 for the bundled 135M model, whose own sentences are mostly wrong",
    )
    cross_language_support: float = Field(
        0.0,
        ge=0,
        le=1,
        description="embedder similarity at which an answer sentence is supported by a source sentence "
        "in the other script (English answer, Chinese source), its numbers being there too; 0 = derived: "
        "0.85 for the bundled multilingual-e5-small, off (words only) for other embedders",
    )
    min_term_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        description="refuse unless two consecutive sentences of a passage cover this IDF-weighted "
        "share of the question's terms (or the dense score below is reached); calibrated with "
        "benchmarks/calibrate_refusal.py",
    )
    drop_unsupported_sentences: bool = Field(
        True, description="remove answer sentences that make a claim no cited source supports"
    )
    withhold_unsupported: bool = Field(
        True, description="never show an answer no sentence of which the sources support"
    )
    quote_unsupported: bool = Field(
        True,
        description="when such an answer is withheld but the evidence is strong, quote the best evidence "
        "sentence (marked `quoted`) instead of refusing",
    )
    min_dense_score: float = Field(
        0.5,
        ge=-1,
        le=1,
        description="refuse unless a passage reaches this cosine similarity (or term coverage)",
    )
