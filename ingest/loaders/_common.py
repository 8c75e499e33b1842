"""Pieces shared by the loaders: section building, the empty-document rule, zip-bomb checks."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ingest.clean import clean_text, collapse_spaces
from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument, Section

MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100
_RATIO_CHECK_MIN_SIZE = 20 * 1024 * 1024
_LETTERS = re.compile(r"[^\W\d_]{2,}")


@dataclass(slots=True)
class SectionBuilder:
    """Collects paragraphs under the current heading path and page, and emits cleaned sections."""

    sections: list[Section] = field(default_factory=list)
    page: int | None = None
    _path: list[tuple[int, str]] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _has_body: bool = False

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._path)

    def add(self, text: str) -> None:
        if text and not text.isspace():
            self._parts.append(text)
            self._has_body = True

    def heading(self, level: int, title: str) -> None:
        """Start a new section under `title`; the heading line also opens the section's text."""
        title = collapse_spaces(title)
        if not title:
            return
        self.flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, title))
        self._parts = [title]

    def set_page(self, page: int | None) -> None:
        if page != self.page:
            if self._has_body:
                self.flush()
            self.page = page

    def table(self, text: str) -> None:
        if not text or text.isspace():
            return
        if self._has_body:
            self.flush()
        self._emit("\n\n".join([*self._parts, text]), "table")
        self._parts = []

    def flush(self) -> None:
        if self._has_body:
            self._emit("\n\n".join(self._parts), "text")
        self._parts = []
        self._has_body = False

    def finish(self) -> list[Section]:
        self.flush()
        return self.sections

    def _emit(self, text: str, kind: str) -> None:
        cleaned = clean_text(text)
        if cleaned:
            self.sections.append(Section(text=cleaned, page=self.page, headings=self.headings, kind=kind))


def finish_document(
    path: Path,
    file_type: str,
    title: str,
    sections: list[Section],
    metadata: dict[str, Any],
    *,
    empty_hint: str = "the file holds no extractable text",
) -> LoadedDocument:
    """Drop empty sections; a document with none left is skipped, never returned empty."""
    kept = [s for s in sections if s.text and not s.text.isspace()]
    if not kept:
        raise DocumentError(f"no text found in {path.name}", hint=empty_hint, skipped=True)
    clean_title = collapse_spaces(title)[:300] or title_from_name(path)
    return LoadedDocument(title=clean_title, file_type=file_type, sections=kept, metadata=metadata)


def title_from_name(path: Path) -> str:
    """A file name as a title: `0030_Maximum_Overdrive.txt` -> `Maximum Overdrive`."""
    stem = re.sub(r"^(?:0\d{0,3}|\d{1,2})[_\-. ]+(?=\D)", "", path.stem)  # list numbers, not years
    return collapse_spaces(stem.replace("_", " ")) or path.stem


def first_line_title(text: str, limit: int = 100) -> str:
    """The first line when it reads as a title: short, no sentence end, followed by a blank line."""
    head, sep, rest = text.lstrip().partition("\n")
    head = head.strip()
    if not sep or (not rest.startswith("\n") and not rest.lstrip(" \t").startswith("\n")):
        return ""
    if not head or len(head) > limit or head[-1] in ".!?。！？；;,，:：":
        return ""
    return head


def meaningful_line(text: str, limit: int = 200) -> str:
    """The first line with at least two letters in a row, or ''."""
    for line in text.splitlines():
        line = collapse_spaces(line)
        if _LETTERS.search(line) or any("\u3400" <= ch <= "\u9fff" for ch in line[:50]):
            return line[:limit]
    return ""


def check_zip(path: Path, data: bytes, what: str, *, max_total: int = MAX_ZIP_UNCOMPRESSED) -> None:
    """Refuse archives that would expand to a huge size (zip bombs) before any XML is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise DocumentError(
            f"{path.name} is not a valid {what} file (corrupt zip container)",
            hint="the file is damaged or not really a " + what + "; re-save it from the original application",
        ) from exc
    total = sum(info.file_size for info in infos)
    if total > max_total:
        raise DocumentError(
            f"{path.name} expands to {total // 2**20} MB uncompressed (limit {max_total // 2**20} MB)",
            hint="possible zip bomb; if the file is genuine, split it into smaller documents",
        )
    for info in infos:
        if info.file_size > _RATIO_CHECK_MIN_SIZE and info.file_size > MAX_ZIP_RATIO * max(
            info.compress_size, 1
        ):
            raise DocumentError(
                f"{path.name}: member {info.filename} is compressed more than {MAX_ZIP_RATIO}:1 "
                f"({info.file_size // 2**20} MB uncompressed)",
                hint="possible zip bomb; the file was not parsed",
            )


def iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None
