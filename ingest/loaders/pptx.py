"""PPTX (python-pptx): one section per slide, page = slide number, slide title as heading, notes kept."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.shapes.base import BaseShape
from pptx.slide import Slide

from ingest.clean import clean_text, collapse_spaces
from ingest.loaders._common import check_zip, finish_document, iso, title_from_name
from ingest.loaders.tables import looks_like_header, render_table
from rag_core.types import LoadedDocument, Section


def load(path: Path, data: bytes) -> LoadedDocument:
    check_zip(path, data, "PPTX")
    presentation = Presentation(io.BytesIO(data))
    sections: list[Section] = []
    first_title = ""
    for number, slide in enumerate(presentation.slides, start=1):
        title = _slide_title(slide)
        first_title = first_title or title
        parts = [title] if title else []
        parts.extend(_shape_texts(slide, skip=slide.shapes.title))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                parts.append("Notes: " + notes)
        text = clean_text("\n\n".join(parts))
        if text:
            sections.append(Section(text=text, page=number, headings=(title,) if title else ()))
    props = presentation.core_properties
    metadata: dict[str, Any] = {
        key: value
        for key, value in {
            "author": props.author,
            "created": iso(props.created),
            "modified": iso(props.modified),
            "subject": props.subject,
            "slide_count": len(presentation.slides),
        }.items()
        if value
    }
    title = (props.title or "").strip() or first_title or title_from_name(path)
    return finish_document(path, "pptx", title, sections, metadata)


def _slide_title(slide: Slide) -> str:
    shape = slide.shapes.title
    return collapse_spaces(shape.text_frame.text) if shape is not None and shape.has_text_frame else ""


def _shape_texts(slide: Slide, skip: BaseShape | None) -> list[str]:
    """Texts of every shape, groups flattened without recursion, in reading order (top, then left)."""
    found: list[tuple[int, int, str]] = []
    skip_id = skip.shape_id if skip is not None else None
    stack: list[tuple[BaseShape, bool]] = [(s, False) for s in slide.shapes]
    while stack:
        shape, grouped = stack.pop()
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            stack.extend((child, True) for child in shape.shapes)  # type: ignore[attr-defined]
            continue
        if not grouped and shape.shape_id == skip_id:
            continue
        text = ""
        if shape.has_text_frame:
            text = "\n".join(
                ("  " * p.level) + p.text.strip()
                for p in shape.text_frame.paragraphs  # type: ignore[attr-defined]
                if p.text.strip()
            )
        elif getattr(shape, "has_table", False):
            rows = [[collapse_spaces(c.text) for c in row.cells] for row in shape.table.rows]  # type: ignore[attr-defined]
            text = render_table(rows, header=len(rows) > 1 and looks_like_header(rows[0]))
        if text.strip():
            found.append((shape.top or 0, shape.left or 0, text))
    found.sort(key=lambda item: (item[0], item[1]))
    return [text for _, _, text in found]
