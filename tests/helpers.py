"""Shared test helpers: the real bundled embedder loaded once per process, thin counting wrappers around
real components (no mocks), generated files of several formats, and document writes for the index.

    from tests.helpers import shared_embedder, CountingEmbedder, write_corpus
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from rag_core.cancel import CancelToken
from rag_core.types import Chunk, DocumentSummary
from rag_models.bundled import BUNDLED_MINILM
from rag_models.embeddings import SentenceTransformerEmbedder
from rag_models.llm.base import LLM, ChatMessage, Generation, GenerationOptions
from vectorstore.records import CollectionInfo, DocumentWrite

REPO = Path(__file__).resolve().parents[1]
BUNDLED_EMBEDDER = "all-MiniLM-L6-v2 (bundled)"


@functools.cache
def shared_embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2 (what tests run on unless marked `default_embedder`, conftest.py),
    loaded once per test process."""
    embedder = SentenceTransformerEmbedder(BUNDLED_MINILM)
    _ = embedder.model
    return embedder


@functools.cache
def script_module(relative: str) -> ModuleType:
    """A script of the repository that is not in a package (benchmarks/..., tests/fixtures/...), by path."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixtures_module() -> ModuleType:
    """tests/fixtures/make_fixtures.py (real PDFs, DOCX, ... written by the libraries that make them)."""
    return script_module("tests/fixtures/make_fixtures.py")


def rag_executable() -> Path:
    """The installed `rag` console script of this venv."""
    exe = Path(sys.executable).parent / "rag"
    return exe if exe.exists() else Path(shutil.which("rag") or "rag")


class CountingEmbedder:
    """The real embedder, counting `embed_array` calls and texts. Everything else is delegated."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.calls = 0
        self.texts = 0

    def embed_array(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed_array(texts, query=query)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text], query=True)[0].tolist()

    def reset(self) -> None:
        self.calls = self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CountingLLM:
    """A real LLM, recording the prompts it is asked to complete."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.model_name = inner.model_name
        self.prompts: list[str] = []

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self.inner.count_tokens(messages)

    def generate(
        self,
        messages: Sequence[ChatMessage],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Generation:
        self.prompts.append(messages[-1].content)
        return self.inner.generate(messages, options, cancel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# documents for the index ----------------------------------------------------------------------------


def new_version(tag: str = "") -> str:
    return f"{tag}{uuid.uuid4().hex[:12]}"


def make_write(
    info: CollectionInfo,
    doc_id: str,
    texts: Sequence[str],
    *,
    version: str | None = None,
    source: str | None = None,
    relpath: str | None = None,
    title: str = "",
    file_type: str = "txt",
    summary: str | None = None,
    mtime: float | None = None,
    page: int | None = None,
    section: str = "",
) -> DocumentWrite:
    """One document version with one chunk per text (spans as if the texts were joined by blank lines)."""
    version = version or new_version()
    source = source or f"/docs/{doc_id}.{file_type}"
    title = title or doc_id
    chunks: list[Chunk] = []
    offset = 0
    for i, text in enumerate(texts):
        chunks.append(
            Chunk(
                id=f"{doc_id}:{version}:{i}",
                collection=info.name,
                doc_id=doc_id,
                version=version,
                source=source,
                title=title,
                text=text,
                index=i,
                page=page,
                section=section,
                start=offset,
                end=offset + len(text),
                hash=hashlib.blake2b(text.encode(), digest_size=12).hexdigest(),
                file_type=file_type,
                tokens=len(text.split()),
            )
        )
        offset += len(text) + 2
    summary_text = summary if summary is not None else f"{title}\n" + " ".join(texts)[:400]
    return DocumentWrite(
        doc_id=doc_id,
        source=source,
        relpath=relpath or Path(source).name,
        title=title,
        file_type=file_type,
        version=version,
        content_hash=hashlib.sha1("\n".join(texts).encode()).hexdigest(),
        fingerprint="test",
        size=sum(len(t) for t in texts),
        mtime=time.time() if mtime is None else mtime,
        summary=DocumentSummary(
            id=f"{doc_id}:{version}:summary",
            collection=info.name,
            doc_id=doc_id,
            version=version,
            source=source,
            title=title,
            text=summary_text,
            strategy="extractive",
            chunk_count=len(chunks),
            file_type=file_type,
        ),
        chunks=chunks,
        metadata={},
    )


# files of several formats ---------------------------------------------------------------------------

MD_TEXT = """# Employee Handbook

Welcome to the company. This handbook explains how we work together.

## Leave Policy

Full-time employees earn two vacation days per month. Unused vacation days expire at the end of March.
Requests go to your manager two weeks ahead.

## Expenses

Keep every receipt. Travel expenses are reimbursed within thirty days of submission.
"""

TXT_TEXT = """Release notes for Falconer 2.4

The Falconer scheduler now supports quiet hours. Jobs started during quiet hours wait until morning.

The command line gained a dry-run flag that prints the plan without running it.
"""

GBK_TEXT = (
    "报销制度\n\n员工出差产生的交通费和住宿费可以报销。报销申请需在出差结束后十五天内提交！"
    "超过期限的申请将不予受理。\n\n每张发票必须附有部门经理的签字；没有签字的发票会被退回。"
)

UTF8_ZH_TEXT = (
    "年假制度\n\n员工每年享有十五天带薪年假，需提前两周向直属主管申请。未休完的年假可以顺延到下一年第一季度。"
    "病假需要医院开具的证明！\n\n加班时间可以调休；调休需在三个月内使用完毕。"
)

HTML_TEXT = """<!doctype html>
<html><head><title>Robot Vacuum FAQ</title><style>body { color: red; }</style>
<script>var tracking = "do-not-index-this-script";</script></head>
<body><nav>Home | Products | Support</nav>
<h1>Robot Vacuum FAQ</h1>
<h2>Battery</h2>
<p>The Dustbuster robot runs ninety minutes on a full charge. Charging takes four hours.</p>
<h2>Maintenance</h2>
<p>Empty the bin after every run and clean the brushes weekly.</p>
<table><tr><th>Part</th><th>Replace every</th></tr><tr><td>Filter</td><td>3 months</td></tr></table>
</body></html>
"""

CSV_TEXT = "city,country,population\nLisbon,Portugal,545000\nOslo,Norway,709000\nQuito,Ecuador,2800000\n"


def write_docx(path: Path, title: str, paragraphs: Sequence[tuple[str, str]]) -> Path:
    """A DOCX written by python-docx: `(style, text)` pairs, style 'Heading 1' / 'Heading 2' / ''."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for style, text in paragraphs:
        if style:
            document.add_paragraph(text, style=style)
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def write_corpus(folder: Path) -> dict[str, Path]:
    """Good files of several formats (md, txt UTF-8, txt GBK, txt UTF-8 Chinese, html, docx, csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "md": folder / "handbook.md",
        "txt": folder / "notes" / "release.txt",
        "gbk": folder / "报销制度.txt",
        "zh": folder / "notes" / "年假.txt",
        "html": folder / "faq.html",
        "docx": folder / "guide.docx",
        "csv": folder / "cities.csv",
    }
    files["txt"].parent.mkdir(parents=True, exist_ok=True)
    files["md"].write_text(MD_TEXT, encoding="utf-8")
    files["txt"].write_text(TXT_TEXT, encoding="utf-8")
    files["gbk"].write_bytes(GBK_TEXT.encode("gbk"))
    files["zh"].write_text(UTF8_ZH_TEXT, encoding="utf-8")
    files["html"].write_text(HTML_TEXT, encoding="utf-8")
    write_docx(
        files["docx"],
        "Onboarding Guide",
        [
            ("Heading 1", "Onboarding Guide"),
            ("", "New hires receive a laptop and a badge on their first day."),
            ("Heading 2", "Accounts"),
            ("", "The helpdesk creates your email account. Passwords rotate every ninety days."),
        ],
    )
    files["csv"].write_text(CSV_TEXT, encoding="utf-8")
    return files


def set_mtime(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def write_pdf(path: Path, title: str, pages: Sequence[tuple[str, str]]) -> Path:
    """A text-layer PDF written by fpdf2: one `(heading, body)` per page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_auto_page_break(True, margin=15)
    for heading, body in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


PDF_PAGES = [
    (
        "Plant Overview",
        "The Riverside plant assembles bicycle frames for three regional brands. It employs ninety people "
        "on two shifts and runs five welding cells. The plant opened in 1998 and was extended in 2015 "
        "with a paint shop and a second warehouse for finished frames.",
    ),
    (
        "Sprocket Supply",
        "Sprockets arrive weekly from a supplier in Porto. Each delivery is inspected for tooth wear and "
        "hardness before it is released to the line. Rejected sprockets are returned within five working "
        "days, and the supplier credits the invoice in the following month.",
    ),
    (
        "Safety Record",
        "The plant recorded two minor incidents this year and no lost-time injuries. Both incidents "
        "involved gloves worn through by sharp frame edges. Cut-resistant gloves are now mandatory at "
        "every welding cell and in the paint shop.",
    ),
]
