"""Plain text (.txt, .text, .log, .rst): decoded in any common encoding, one section, title = file stem."""

from __future__ import annotations

from pathlib import Path

from ingest.clean import clean_text
from ingest.loaders._common import finish_document
from ingest.loaders.encoding import decode_bytes
from rag.types import LoadedDocument, Section


def load(path: Path, data: bytes) -> LoadedDocument:
    text, codec = decode_bytes(data, path.name)
    body = clean_text(text)
    del text
    sections = [Section(text=body)] if body else []
    return finish_document(path, "txt", path.stem, sections, {"encoding": codec})
