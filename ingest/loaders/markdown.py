"""Markdown: sections at ATX and setext headings, fences respected, YAML front matter stripped.

A small line scanner rather than langchain's MarkdownHeaderTextSplitter: that splitter knows fences but
not setext headings or front matter, drops blank lines (paragraph breaks), and reads an indented
`    # comment` in a code block as a heading.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ingest.loaders._common import SectionBuilder, finish_document, title_from_name
from ingest.loaders.encoding import decode_bytes
from rag_core.types import LoadedDocument

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BLOCK_START = re.compile(r"^ {0,3}(?:[-*+>]|\d{1,9}[.)]|\||<)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MAX_SETEXT_LINES = 3


def load(path: Path, data: bytes) -> LoadedDocument:
    text, codec = decode_bytes(data, path.name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata: dict[str, Any] = {"encoding": codec}
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end() :]
        title = _front_matter_title(front.group(1), metadata)
    builder, first_h1 = parse(text)
    return finish_document(path, "md", title or first_h1 or title_from_name(path), builder.finish(), metadata)


def parse(text: str) -> tuple[SectionBuilder, str]:
    builder = SectionBuilder()
    body: list[str] = []
    paragraph: list[str] = []
    fence: str | None = None
    first_h1 = ""

    def flush_paragraph() -> None:
        body.extend(paragraph)
        paragraph.clear()

    def flush_body() -> None:
        flush_paragraph()
        builder.add("\n".join(body))
        body.clear()

    for line in text.split("\n"):
        if fence is not None:
            body.append(line)
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None
            continue
        opening = _FENCE.match(line)
        if opening:
            flush_paragraph()
            fence = opening.group(1)
            body.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            flush_body()
            level, heading = len(atx.group(1)), (atx.group(2) or "").strip()
            builder.heading(level, heading)
            first_h1 = first_h1 or (heading if level == 1 else "")
            continue
        setext = _SETEXT.match(line)
        if (
            setext
            and paragraph
            and len(paragraph) <= _MAX_SETEXT_LINES
            and not _BLOCK_START.match(paragraph[0])
        ):
            heading = " ".join(part.strip() for part in paragraph)
            paragraph.clear()
            flush_body()
            level = 1 if setext.group(1)[0] == "=" else 2
            builder.heading(level, heading)
            first_h1 = first_h1 or (heading if level == 1 else "")
            continue
        if _THEMATIC_BREAK.match(line) and not paragraph:
            continue
        if line.strip():
            paragraph.append(line)
        else:
            flush_paragraph()
            body.append("")
    flush_body()
    return builder, first_h1


def _front_matter_title(block: str, metadata: dict[str, Any]) -> str:
    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError:
        return ""
    if not isinstance(meta, dict):
        return ""
    for key in ("author", "date", "description"):
        value = meta.get(key)
        if value is not None and not isinstance(value, dict | list | bool):
            metadata[key] = str(value)
    title = meta.get("title")
    return str(title).strip() if title else ""
