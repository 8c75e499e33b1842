"""Plain text (.txt, .text, .log, .rst): decoded in any common encoding, one section. The title is the
first line when it reads as one (short, no sentence end, a blank line after it), else the file name."""

from __future__ import annotations

from pathlib import Path

from ingest.clean import clean_text
from ingest.loaders._common import finish_document, first_line_title, title_from_name
from ingest.loaders.encoding import decode_bytes
from rag_core.types import LoadedDocument, Section


def load(path: Path, data: bytes) -> LoadedDocument:
    text, codec = decode_bytes(data, path.name)
    body = clean_text(text)
    del text
    sections = [Section(text=body)] if body else []
    title = first_line_title(body) or title_from_name(path)
    return finish_document(path, "txt", title, sections, {"encoding": codec})
