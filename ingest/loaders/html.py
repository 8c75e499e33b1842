"""HTML: BeautifulSoup over lxml, walked with an explicit stack (no recursion, any nesting depth).

Page chrome (script, style, nav, header, footer, aside, forms, svg) is dropped; h1-h6 build the heading
path; tables become row text with their header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from ingest.clean import collapse_spaces
from ingest.loaders._common import SectionBuilder, finish_document, title_from_name
from ingest.loaders.encoding import decode_bytes
from ingest.loaders.tables import render_table
from rag_core.types import LoadedDocument, Section

_DROP = frozenset(
    {
        "script", "style", "nav", "header", "footer", "aside", "noscript", "form", "svg", "template",
        "iframe", "head", "button", "select", "canvas", "object", "embed", "map", "dialog", "math",
    }
)  # fmt: skip
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "blockquote", "ul", "ol", "dl", "dt", "dd", "figure",
        "figcaption", "address", "details", "summary", "fieldset", "hr", "body", "html", "center", "caption",
    }
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_WS = re.compile(r"\s+")
_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "cp950",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
}  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def load(path: Path, data: bytes) -> LoadedDocument:
    markup, codec = decode_html(data, path.name)
    soup = BeautifulSoup(markup, "lxml")
    title_tag = soup.find("title")
    title = collapse_spaces(title_tag.get_text(" ")) if title_tag else ""
    if not title:
        h1 = soup.find("h1")
        title = collapse_spaces(h1.get_text(" ")) if h1 else ""
    metadata: dict[str, str] = {"encoding": codec}
    for meta in soup.find_all("meta", attrs={"name": True, "content": True}):
        key = str(meta["name"]).lower()
        if key in ("author", "description", "keywords"):
            metadata[key] = collapse_spaces(str(meta["content"]))[:500]
    sections = soup_sections(soup)
    soup.decompose()
    return finish_document(path, "html", title or title_from_name(path), sections, metadata)


def decode_html(data: bytes, name: str) -> tuple[str, str]:
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        codec = declared.group(1).decode("ascii").lower()
        codec = _CHARSET_ALIASES.get(codec, codec)
        try:
            return data.decode(codec), codec
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data, name)


def html_to_sections(markup: str) -> list[Section]:
    """Text sections of an HTML fragment or page (used by the e-mail loader for HTML bodies)."""
    soup = BeautifulSoup(markup, "lxml")
    sections = soup_sections(soup)
    soup.decompose()
    return sections


def soup_sections(soup: BeautifulSoup) -> list[Section]:
    builder = SectionBuilder()
    inline: list[str] = []

    def flush() -> None:
        text = "".join(inline).strip()
        inline.clear()
        if text:
            builder.add("\n".join(line.strip() for line in text.split("\n")))

    root = soup.body or soup
    stack: list[tuple[Iterator[object], str]] = [(iter(list(root.children)), "block")]
    in_item = 0
    while stack:
        node = next(stack[-1][0], None)
        if node is None:
            _, role = stack.pop()
            if role == "item":
                in_item -= 1
            elif role == "block":
                if in_item:
                    inline.append(" ")
                else:
                    flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, _SKIPPED_STRINGS) or isinstance(node, CData):
                inline.append(_WS.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name.lower()
        if name in _DROP:
            continue
        if name in _HEADINGS:
            flush()
            builder.heading(_HEADINGS[name], node.get_text(" "))
            continue
        if name == "table":
            flush()
            builder.table(render_table(_table_rows(node), header=_table_header(node)))
            continue
        if name == "pre":
            flush()
            builder.add(node.get_text())
            continue
        if name == "br":
            inline.append("\n")
            continue
        if name == "li":
            in_item += 1
            inline.append("\n- ")
            stack.append((iter(list(node.children)), "item"))
            continue
        role = "block" if name in _BLOCKS else "inline"
        if role == "block":
            if in_item:
                inline.append(" ")
            else:
                flush()
        stack.append((iter(list(node.children)), role))
    flush()
    return builder.finish()


def _direct_rows(table: Tag) -> list[Tag]:
    rows: list[Tag] = []
    for child in table.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "tr":
            rows.append(child)
        elif child.name in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child.children if isinstance(tr, Tag) and tr.name == "tr")
    return rows


def _cells(row: Tag) -> list[Tag]:
    return [c for c in row.children if isinstance(c, Tag) and c.name in ("td", "th")]


def _table_header(table: Tag) -> bool:
    rows = _direct_rows(table)
    if len(rows) < 2:
        return False
    first = _cells(rows[0])
    return bool(first) and (
        (rows[0].parent is not None and rows[0].parent.name == "thead") or all(c.name == "th" for c in first)
    )


def _table_rows(table: Tag) -> list[list[str]]:
    return [[collapse_spaces(c.get_text(" ")) for c in _cells(row)] for row in _direct_rows(table)]
