"""XLSX (openpyxl, read-only, cached values) and CSV/TSV (csv module): rows as text with their header."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl

from ingest.clean import clean_text, collapse_spaces
from ingest.loaders._common import check_zip, finish_document, iso, title_from_name
from ingest.loaders.encoding import decode_bytes
from ingest.loaders.tables import render_row
from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument, Section

MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
_CSV_FIELD_LIMIT = 2**31 - 1
_HEADER_LOOKAHEAD = 10
_NUMERIC = re.compile(r"^[-+]?[\d.,% $€£¥]+$")


def load_xlsx(path: Path, data: bytes) -> LoadedDocument:
    check_zip(path, data, "XLSX", max_total=MAX_XLSX_UNCOMPRESSED)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sections: list[Section] = []
        names = []
        for index, sheet in enumerate(workbook.worksheets, start=1):
            names.append(sheet.title)
            rows = ([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
            text = clean_text(rows_to_text(rows))
            if text:
                sections.append(Section(text=text, page=index, headings=(sheet.title,), kind="table"))
        props = workbook.properties
        metadata: dict[str, Any] = {
            key: value
            for key, value in {
                "author": props.creator,
                "created": iso(props.created),
                "modified": iso(props.modified),
                "sheet_count": len(names),
                "sheet_names": ", ".join(names),
            }.items()
            if value
        }
        title = (props.title or "").strip() or title_from_name(path)
    finally:
        workbook.close()
    return finish_document(path, "xlsx", title, sections, metadata)


def load_csv(path: Path, data: bytes) -> LoadedDocument:
    text, codec = decode_bytes(data, path.name)
    dialect: type[csv.Dialect] | csv.Dialect = (
        csv.excel_tab if path.suffix.lower() == ".tsv" else _sniff(text)
    )
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        rows = ([collapse_spaces(cell) for cell in row] for row in csv.reader(io.StringIO(text), dialect))
        body = clean_text(rows_to_text(rows))
    except csv.Error as exc:
        raise DocumentError(
            f"{path.name} is not valid CSV: {exc}", hint="check the delimiter and quoting"
        ) from exc
    sections = [Section(text=body, kind="table")] if body else []
    metadata = {"encoding": codec, "delimiter": getattr(dialect, "delimiter", ",")}
    return finish_document(path, "csv", title_from_name(path), sections, metadata)


def rows_to_text(rows: Iterable[Sequence[str]]) -> str:
    """Each data row rendered with the header row; title rows above the header stay plain lines."""
    lines: list[str] = []
    pending: list[list[str]] = []
    header: list[str] | None = None
    decided = False
    for row in rows:
        cells = _trim(row)
        if not cells:
            continue
        if decided:
            lines.append(render_row(header, cells))
            continue
        pending.append(cells)
        found = _find_header(pending)
        if found is None:
            continue
        decided = True
        if found >= 0:
            header = pending[found]
            lines.extend(render_row(None, r) for r in pending[:found])
            lines.extend(render_row(header, r) for r in pending[found + 1 :])
        else:
            lines.extend(render_row(None, r) for r in pending)
        pending.clear()
    lines.extend(render_row(None, r) for r in pending)
    return "\n".join(line for line in lines if line)


def _find_header(pending: list[list[str]]) -> int | None:
    """The header is the first row with at least two non-empty, non-numeric cells, once a row follows it."""
    for i, row in enumerate(pending[:-1]):
        filled = [c for c in row if c]
        if len(filled) >= 2 and not any(_NUMERIC.match(c) for c in filled):
            return i
    if len(pending) >= _HEADER_LOOKAHEAD:
        return -1
    return None


def _trim(row: Sequence[str]) -> list[str]:
    cells = list(row)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return collapse_spaces(str(value))


def _sniff(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter that splits the first lines into the same number (> 1) of fields most often."""
    lines = [line for line in text[: 64 * 1024].splitlines()[:50] if line.strip()]
    if len(text) > 64 * 1024 and len(lines) > 1:
        lines.pop()
    best: tuple[float, int, str] | None = None
    for delimiter in ",;\t|":
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        fields, hits = Counter(counts).most_common(1)[0]
        if fields > 1 and (best is None or (hits / len(counts), fields) > best[:2]):
            best = (hits / len(counts), fields, delimiter)
    dialect = csv.excel()
    if best is not None:
        dialect.delimiter = best[2]
    return dialect
