"""LangChain integration: our retrieval as a `BaseRetriever`, our LLM as a chat model, our embedder as
`Embeddings`, all built from the same settings as the CLI (`RAG_*` variables, `rag.toml`).

    from rag.langchain import RagRetriever, chat_model

    retriever = RagRetriever(collection="handbook")
    docs = retriever.invoke("How many vacation days do we get?")
    docs[0].page_content                      # the passage, whole
    docs[0].metadata                          # source, title, page, section, score, doc_id, rank, chunk_ids

    chain = (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | prompt
        | chat_model(components=retriever.components)
        | StrOutputParser()
    )

The retriever runs the whole retrieval pipeline of `rag ask` (summaries, dense + lexical search, fusion,
reranking, corroboration, passages) with `retrieval_only`: no LLM call unless query expansion is switched
on. Its async variant (`ainvoke`) runs it in the default executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from rag.query.request import Filters, QueryRequest
from rag_core.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag.components import Components
    from rag_core.types import Evidence
    from rag_models.embeddings import SentenceTransformerEmbedder
    from rag_models.llm.base import GenerationOptions
    from rag_models.llm.langchain_chat import LangChainChatModel

__all__ = ["RagRetriever", "chat_model", "embeddings", "format_docs"]


class RagRetriever(BaseRetriever):
    """A LangChain retriever over one collection of our index: `invoke(question)` returns the best passages
    as `Document`s, best first, with `source`, `title`, `page`, `section`, `score` and `doc_id` (plus
    `rank`, the passage's place, and `chunk_ids`) in their metadata.

        RagRetriever()                                     # settings from the environment, default collection
        RagRetriever(collection="handbook", top_k=3)
        RagRetriever(settings=my_settings, filters=Filters(file_types=("pdf",)))
        RagRetriever(components=components)                # share models already loaded
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: str | None = Field(None, description="the collection searched; None = the settings' one")
    top_k: int | None = Field(None, ge=1, description="passages returned; None = RAG_RETRIEVAL__TOP_K")
    filters: Filters | None = Field(None, description="restrict the search to matching documents")
    settings: Settings | None = Field(None, description="None = load_settings(), as the CLI does")
    _components: Any = PrivateAttr(None)

    def __init__(self, *, components: Components | None = None, **data: Any) -> None:
        if components is not None and data.get("settings") is None:
            data["settings"] = components.settings
        super().__init__(**data)
        if self.settings is None:
            self.settings = load_settings()  # a misspelled setting fails here, not at the first question
        if components is None:
            from rag.components import Components

            components = Components(self.settings)
        self._components = components

    @property
    def components(self) -> Components:
        """The components the retriever runs on (index, embedder, LLM), to share with `chat_model`."""
        components: Components = self._components
        return components

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        components = self.components
        request = QueryRequest(
            question=query,
            collection=self.collection or components.settings.collection,
            top_k=self.top_k,
            filters=self.filters or Filters(),
            retrieval_only=True,
        )
        response = components.query_pipeline().run(request)
        return [to_document(item, response.collection) for item in response.context]


def to_document(item: Evidence, collection: str) -> Document:
    """One passage of our retrieval as a LangChain `Document`."""
    return Document(
        page_content=item.text,
        metadata={
            "source": item.source,
            "title": item.title,
            "page": item.page,
            "section": item.section,
            "score": item.score,
            "doc_id": item.doc_id,
            "rank": item.id,
            "chunk_ids": list(item.chunk_ids),
            "collection": collection,
        },
    )


def format_docs(docs: list[Document]) -> str:
    """Passages as numbered sources for a prompt: `[1] title (source, page 3, section)`, then the text."""
    blocks = []
    for number, doc in enumerate(docs, 1):
        meta = doc.metadata
        page = f"page {meta['page']}" if meta.get("page") is not None else ""
        where = ", ".join(str(p) for p in (meta.get("source"), page, meta.get("section")) if p)
        header = f"[{number}] {meta.get('title') or 'untitled'}" + (f" ({where})" if where else "")
        blocks.append(f"{header}\n{doc.page_content}")
    return "\n\n".join(blocks)


def chat_model(
    settings: Settings | None = None,
    *,
    components: Components | None = None,
    options: GenerationOptions | None = None,
) -> LangChainChatModel:
    """The configured LLM (`RAG_LLM__*`: llama.cpp, Ollama, transformers or an OpenAI-compatible server) as
    a LangChain `BaseChatModel`. With `components`, the LLM those components already hold (loaded once);
    `options` override the sampling defaults of the settings."""
    from rag_models.llm.langchain_chat import LangChainChatModel

    if components is not None:
        llm = components.llm()
    else:
        from rag_models.llm.factory import build_llm

        llm = build_llm((settings or load_settings()).llm)
    return LangChainChatModel(llm=llm, options=options)


def embeddings(
    settings: Settings | None = None, *, components: Components | None = None
) -> SentenceTransformerEmbedder:
    """The configured embedder (`RAG_EMBEDDING__*`) as LangChain `Embeddings` (`embed_documents`,
    `embed_query`; vectors L2-normalised). It loads the model on first use."""
    if components is not None:
        return components.embedder
    from rag_models.embeddings import SentenceTransformerEmbedder

    settings = settings or load_settings()
    return SentenceTransformerEmbedder.from_settings(settings.embedding, settings.data_dir)
