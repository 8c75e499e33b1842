"""DOCX (python-docx): body paragraphs and tables in document order; Title/Heading N styles build the path."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ingest.clean import collapse_spaces
from ingest.loaders._common import SectionBuilder, check_zip, finish_document, iso, title_from_name
from ingest.loaders.tables import looks_like_header, render_table
from rag_core.types import LoadedDocument

_HEADING_STYLE = re.compile(r"^(?:heading|标题|überschrift|titre|título|titolo)\s*(\d)$", re.IGNORECASE)
_LIST_STYLE = re.compile(r"list", re.IGNORECASE)


def load(path: Path, data: bytes) -> LoadedDocument:
    check_zip(path, data, "DOCX")
    document = docx.Document(io.BytesIO(data))
    styles = {style.style_id: style.name or "" for style in document.styles}
    builder = SectionBuilder()
    first_heading = ""
    items: list[str] = []
    for block in _blocks(document):
        style = "" if isinstance(block, Table) else styles.get(block._p.style or "", "")
        if items and (isinstance(block, Table) or not _is_list_item(block, style)):
            builder.add("\n".join(items))
            items.clear()
        if isinstance(block, Table):
            builder.table(_table_text(block))
            continue
        text = block.text
        if not text.strip():
            continue
        level = _heading_level(block, style)
        if level is not None:
            builder.heading(level, text)
            first_heading = first_heading or collapse_spaces(text)
        elif _is_list_item(block, style):
            items.append("- " + text.strip())
        else:
            builder.add(text)
    if items:
        builder.add("\n".join(items))
    props = document.core_properties
    metadata: dict[str, Any] = {
        key: value
        for key, value in {
            "author": props.author,
            "created": iso(props.created),
            "modified": iso(props.modified),
            "last_modified_by": props.last_modified_by,
            "subject": props.subject,
            "keywords": props.keywords,
        }.items()
        if value
    }
    title = (props.title or "").strip() or first_heading or title_from_name(path)
    return finish_document(path, "docx", title, builder.finish(), metadata)


def _blocks(document: Document) -> list[Paragraph | Table]:
    body = document.element.body
    blocks: list[Paragraph | Table] = []
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            blocks.append(Paragraph(child, document))
        elif child.tag == qn("w:tbl"):
            blocks.append(Table(child, document))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                blocks.extend(Paragraph(p, document) for p in content.iterchildren(qn("w:p")))
    return blocks


def _heading_level(paragraph: Paragraph, style: str) -> int | None:
    if style.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(style)
    if match:
        return int(match.group(1)) + 1
    outline = paragraph._p.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
    if outline is not None:
        value = outline.get(qn("w:val"))
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 2
    return None


def _is_list_item(paragraph: Paragraph, style: str) -> bool:
    if paragraph._p.find(f"{qn('w:pPr')}/{qn('w:numPr')}") is not None:
        return True
    return bool(_LIST_STYLE.search(style))


def _table_text(table: Table) -> str:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(collapse_spaces(cell.text))
        rows.append(cells)
    if not rows:
        return ""
    first_tr = table.rows[0]._tr
    repeat_header = first_tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    header = len(rows) > 1 and (repeat_header or looks_like_header(rows[0]))
    return render_table(rows, header=header)
