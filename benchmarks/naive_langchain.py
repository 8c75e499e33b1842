"""Our pipeline beside the naive LangChain RAG of the tutorials, on one benchmark set, in one process.

The naive pipeline: text files read as they are (PDFs with PyPDFLoader, HTML with BSHTMLLoader),
RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), a LangChain Chroma vector store,
similarity top-4, the four chunks "stuffed" into the tutorial prompt, one LLM call. It uses the same
embedder and the same LLM as our pipeline (through `LangChainChatModel`), and both are scored by the
same code (`rag.eval`).

    .venv/bin/python benchmarks/naive_langchain.py ../shared/bench/xquad-en --retrieval-only --limit 100

The naive Chroma store is kept under $RAG_DATA_DIR/naive-langchain/<set> and rebuilt when the files,
the splitter or the embedder change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_text_splitters import RecursiveCharacterTextSplitter
from rich.console import Console

from rag.components import Components
from rag.eval.dataset import EvalSet, Question, load_set
from rag.eval.report import EvalReport, ingest_line, rich_tables, table_console, to_markdown
from rag.eval.runner import (
    PipelineSystem,
    RunResult,
    config_snapshot,
    default_collection,
    ingest_set,
    run_questions,
)
from rag.eval.scoring import ContextItem, Outcome
from rag.query.answer import is_refusal
from rag_core.settings import Settings, load_settings
from rag_models.llm.base import GenerationOptions
from rag_models.llm.langchain_chat import LangChainChatModel

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4
# The prompt of LangChain's RAG tutorial (hub "rlm/rag-prompt").
PROMPT = (
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved context to "
    "answer the question. If you don't know the answer, just say that you don't know. Use three sentences "
    "maximum and keep the answer concise.\nQuestion: {question} \nContext: {context} \nAnswer:"
)
console = Console(stderr=True)


def load_documents(docs_dir: Path) -> list[Document]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.document_loaders import BSHTMLLoader, PyPDFLoader

    documents: list[Document] = []
    for path in sorted(p for p in docs_dir.rglob("*") if p.is_file()):
        doc_id = path.relative_to(docs_dir).as_posix()
        suffix = path.suffix.lower()
        try:
            if suffix == ".pdf":
                loaded = PyPDFLoader(str(path)).load()
            elif suffix in (".html", ".htm"):
                loaded = BSHTMLLoader(str(path), open_encoding="utf-8").load()
            else:
                loaded = [Document(page_content=path.read_text(encoding="utf-8", errors="replace"))]
        except Exception as exc:
            console.print(f"[yellow]naive: skipped[/] {doc_id}: {exc}", highlight=False)
            continue
        for doc in loaded:
            doc.metadata = {**doc.metadata, "source": doc_id}
            documents.append(doc)
    return documents


def _fingerprint(docs_dir: Path, embedder: str) -> str:
    digest = hashlib.sha1(f"{CHUNK_SIZE}/{CHUNK_OVERLAP}/{embedder}".encode())
    for path in sorted(p for p in docs_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(docs_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_store(components: Components, eval_set: EvalSet, *, fresh: bool) -> tuple[object, float, int]:
    """The naive Chroma store, reused when its fingerprint matches. Returns (store, seconds, chunks)."""
    from langchain_chroma import Chroma

    folder = components.settings.data_dir / "naive-langchain" / eval_set.name
    marker = folder / "fingerprint"
    fingerprint = _fingerprint(eval_set.docs_dir, components.embedder.model_name)
    reuse = not fresh and marker.is_file() and marker.read_text() == fingerprint
    if not reuse and folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    store = Chroma(
        collection_name="naive", embedding_function=components.embedder, persist_directory=str(folder)
    )
    if reuse:
        return store, 0.0, len(store.get(include=[])["ids"])
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks = splitter.split_documents(load_documents(eval_set.docs_dir))
    for start in range(0, len(chunks), 1000):
        store.add_documents(chunks[start : start + 1000])
    marker.write_text(fingerprint)
    return store, time.perf_counter() - started, len(chunks)


class NaiveSystem:
    def __init__(self, store: object, chat: LangChainChatModel | None) -> None:
        self.store = store
        self.chat = chat

    def __call__(self, question: Question) -> Outcome:
        started = time.perf_counter()
        docs: list[Document] = self.store.similarity_search(question.question, k=TOP_K)  # type: ignore[attr-defined]
        timings = {"retrieve": time.perf_counter() - started}
        context = [ContextItem(d.metadata["source"], d.page_content) for d in docs]
        if self.chat is None:
            timings["total"] = time.perf_counter() - started
            return Outcome(context=context, timings=timings)
        text = "\n\n".join(d.page_content for d in docs)
        messages: list[BaseMessage] = [HumanMessage(PROMPT.format(question=question.question, context=text))]
        prompt_tokens = self.chat.get_num_tokens_from_messages(messages)
        generate_started = time.perf_counter()
        parts: list[str] = []
        for chunk in self.chat.stream(messages):
            if not parts:
                timings["first_token"] = time.perf_counter() - started
            parts.append(str(chunk.content))
        answer = "".join(parts).strip()
        timings["generate"] = time.perf_counter() - generate_started
        timings["total"] = time.perf_counter() - started
        return Outcome(
            context=context,
            answer=answer,
            refused=not answer or is_refusal(answer),
            timings=timings,
            prompt_tokens=prompt_tokens,
        )


def _chat(components: Components, settings: Settings) -> LangChainChatModel:
    llm = components.llm()
    options = GenerationOptions(
        temperature=settings.llm.temperature,
        top_p=settings.llm.top_p,
        top_k=settings.llm.top_k,
        repetition_penalty=settings.llm.repetition_penalty,
        max_new_tokens=settings.answer.max_new_tokens,
        seed=settings.llm.seed,
    )
    return LangChainChatModel(llm=llm, options=options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="ask only the first N questions")
    parser.add_argument("--retrieval-only", action="store_true", help="skip generation")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument("--markdown", type=Path, default=None, help="write a Markdown summary here")
    parser.add_argument("--collection", default=None, help="our pipeline's collection (default eval-<set>)")
    parser.add_argument("--fresh", action="store_true", help="rebuild both indexes from scratch")
    args = parser.parse_args(argv)

    eval_set = load_set(args.set_dir)
    questions = eval_set.questions[: args.limit] if args.limit else eval_set.questions
    settings = load_settings()
    components = Components(settings)

    console.print("naive: loading, splitting and embedding ...")
    store, naive_seconds, naive_chunks = build_store(components, eval_set, fresh=args.fresh)
    console.print(f"naive: {naive_chunks} chunks, built in {naive_seconds:.1f} s (0 = reused)")
    stats = ingest_set(
        components, eval_set, args.collection or default_collection(eval_set), fresh=args.fresh
    )
    console.print(ingest_line(stats).replace("`", ""), highlight=False, soft_wrap=True)

    chat = None if args.retrieval_only else _chat(components, settings)
    ours = PipelineSystem(
        components.query_pipeline(), stats.collection, eval_set.docs_dir, retrieval_only=args.retrieval_only
    )
    ours.warm_up(questions)
    naive = NaiveSystem(store, chat)
    NaiveSystem(store, None)(questions[0])
    if chat is not None:
        components.llm().warm_up()
    runs = []
    for label, system in (("naive-langchain", naive), ("rag", ours)):
        with console.status(f"{label}: {len(questions)} questions"):
            runs.append(RunResult(label, run_questions(system, questions), [], args.retrieval_only))

    report = EvalReport(
        eval_set.name,
        str(eval_set.root),
        runs,
        stats,
        eval_set.problems,
        config_snapshot(components),
        args.limit,
    )
    data = report.to_json()
    data["naive"] = {"chunks": naive_chunks, "build_seconds": round(naive_seconds, 3), "top_k": TOP_K}
    if args.json:
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        naive_line = f"naive-langchain index: {naive_chunks} chunks of {CHUNK_SIZE} characters, top-{TOP_K}"
        args.markdown.write_text(to_markdown(report) + f"\n{naive_line}\n", encoding="utf-8")
    out = table_console()
    for table in rich_tables(runs, f"{eval_set.name} ({len(questions)} questions)"):
        out.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
