"""PDF text layer via pypdfium2: sections per page and heading, lines joined into paragraphs.

Headings come from font size (one pdfium call per line, not per character): lines clearly larger than
the body text, or bold at body size when the body is not bold. Lines repeated at the top or bottom of
most pages (running headers, footers, page numbers) are dropped. Hyphenated line ends are resolved
against the document's own vocabulary, then unstructured's English word list.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ingest.clean import collapse_spaces
from ingest.loaders._common import SectionBuilder, finish_document, meaningful_line, title_from_name
from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument

_LINE = re.compile(r"[^\r\n]+")
_LETTER = re.compile(r"[^\W\d_]")
_HYPHENS = "\ufffe\u00ad\u2010-"
_LEFT_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*$")
_RIGHT_WORD = re.compile(r"^[^\W\d_]+")
_INLINE_HYPHEN = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*)\ufffe([^\W\d_]+)")
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LIST_ITEM = re.compile(r"^(?:[-•▪◦●○■□➢➤\uf0b7\uf0a7*]|\(?\d{1,3}[.)]|[a-zA-Z][.)]|\([ivxIVX]{1,4}\))\s")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_TERMINAL = tuple(".!?:;。！？：；")
_DIGITS = re.compile(r"\d+")
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?)?")
_BAD_TITLES = frozenset(
    {"untitled", "title", "document", "slide 1", "powerpoint presentation", "microsoft word"}
)
_FILE_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint|excel) - )|\.(?:docx?|pptx?|xlsx?|pdf|txt|rtf|odt)$", re.I
)
_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe; loaders may run on worker threads
_MAX_HEADING_CHARS = 150
_MAX_HEADING_LINES = 3
_OCR_HINT = "no text layer: this looks like a scanned PDF; OCR it first (e.g. `ocrmypdf in.pdf out.pdf`)"


@dataclass(slots=True)
class _Line:
    text: str
    size: float
    bold: bool
    soft_end: bool

    @property
    def style(self) -> tuple[float, bool]:
        return (round(self.size * 2) / 2, self.bold)


def load(path: Path, data: bytes) -> LoadedDocument:
    pdf = _open(path, data)
    try:
        page_count = len(pdf)
        if page_count == 0:
            raise DocumentError(
                f"{path.name} has no pages", hint="the PDF is damaged; re-export or repair it"
            )
        pages = [_page_lines(pdf, index) for index in range(page_count)]
        info = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    metadata: dict[str, Any] = {"page_count": page_count}
    for key, name in (("Author", "author"), ("Subject", "subject"), ("Keywords", "keywords")):
        if info.get(key):
            metadata[name] = collapse_spaces(info[key])
    for key, name in (("CreationDate", "created"), ("ModDate", "modified")):
        if info.get(key):
            metadata[name] = _pdf_date(info[key])
    for key, name in (("Creator", "creator"), ("Producer", "producer")):
        if info.get(key):
            metadata[name] = collapse_spaces(info[key])
    empty_pages = sum(1 for lines in pages if not lines)
    if empty_pages:
        metadata["pages_without_text"] = empty_pages
    if empty_pages == page_count:
        raise DocumentError(
            f"no text found in {path.name} ({page_count} pages)", hint=_OCR_HINT, skipped=True
        )
    _drop_running_lines(pages)
    layout = _Layout(pages)
    title_lines = layout.title_lines(pages)
    title_page = title_lines == len(pages[layout.first_page - 1])
    builder = SectionBuilder()
    for number, lines in enumerate(pages, start=1):
        builder.set_page(number)
        skip = title_lines if title_page and number == layout.first_page else 0
        layout.emit_page(lines, builder, skip_headings=skip)
    title = _meta_title(info.get("Title", "")) or layout.title(pages, title_lines) or title_from_name(path)
    return finish_document(path, "pdf", title, builder.finish(), metadata, empty_hint=_OCR_HINT)


def _open(path: Path, data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise DocumentError(
                f"{path.name} is password-protected",
                hint="remove the password (`qpdf --decrypt --password=PW in.pdf out.pdf`), then ingest it",
            ) from exc
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise DocumentError(
                f"{path.name} uses an unsupported encryption scheme",
                hint="remove the protection and ingest again",
            ) from exc
        raise DocumentError(
            f"{path.name} is not a readable PDF ({exc})",
            hint="the file is corrupt or truncated; re-download or re-export it",
        ) from exc


def _page_lines(pdf: pdfium.PdfDocument, index: int) -> list[_Line]:
    try:
        page = pdf[index]
    except pdfium.PdfiumError:
        return []
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            aligned = len(text) == textpage.count_chars()
            lines = []
            for match in _LINE.finditer(text):
                raw = match.group()
                body = raw.strip()
                if not body:
                    continue
                size, bold = 0.0, False
                if aligned:
                    start = match.start() + len(raw) - len(raw.lstrip())
                    end = match.start() + len(raw.rstrip()) - 1
                    size = pdfium_c.FPDFText_GetFontSize(textpage.raw, start)
                    bold = (
                        pdfium_c.FPDFText_GetFontWeight(textpage.raw, start) >= 600
                        and pdfium_c.FPDFText_GetFontWeight(textpage.raw, end) >= 600
                    )
                lines.append(_Line(body, size, bold, raw[-1:].isspace()))
            return lines
        finally:
            textpage.close()
    finally:
        page.close()


def _line_key(text: str) -> str:
    return _DIGITS.sub("#", collapse_spaces(text).lower())


def _drop_running_lines(pages: list[list[_Line]]) -> None:
    """Remove running headers/footers: a first or last line repeated on at least half the pages."""
    with_text = [lines for lines in pages if lines]
    if len(with_text) < 4:
        return
    counts: Counter[str] = Counter()
    for lines in with_text:
        counts.update({_line_key(lines[0].text), _line_key(lines[-1].text)})
    threshold = max(3, len(with_text) // 2)
    running = {key for key, n in counts.items() if n >= threshold}
    if not running:
        return
    for lines in with_text:
        if lines and _line_key(lines[-1].text) in running:
            lines.pop()
        if lines and _line_key(lines[0].text) in running:
            lines.pop(0)


class _Layout:
    """Document-wide statistics: body font, heading levels, line width, vocabulary for hyphens."""

    def __init__(self, pages: list[list[_Line]]) -> None:
        weights: Counter[tuple[float, bool]] = Counter()
        for lines in pages:
            for line in lines:
                if line.size > 0:
                    weights[line.style] += len(line.text)
        self.body_size, self.body_bold = weights.most_common(1)[0][0] if weights else (0.0, False)
        heading_styles = {line.style for lines in pages for line in lines if self._heading_like(line)}
        heading_chars = sum(n for style, n in weights.items() if style in heading_styles)
        if heading_chars > 0.25 * max(1, sum(weights.values())):
            heading_styles = set()
        ranked = sorted(heading_styles, reverse=True)
        self.levels = {style: min(i + 1, 6) for i, style in enumerate(ranked)}
        widths = sorted(len(line.text) for lines in pages for line in lines if line.style not in self.levels)
        self.full_width = 0.8 * widths[int(len(widths) * 0.9)] if widths else 0
        inner = [line for lines in pages for line in lines[:-1] if line.style not in self.levels]
        self.trailing_mode = bool(inner) and sum(line.soft_end for line in inner) >= 0.2 * len(inner)
        self.first_page = next((i for i, lines in enumerate(pages, start=1) if lines), 1)
        self._pages = pages
        self._vocab: set[str] | None = None
        for lines in pages:
            for line in lines:
                if "\ufffe" in line.text:
                    line.text = _INLINE_HYPHEN.sub(self._inline_hyphen, line.text)

    def _inline_hyphen(self, match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        return left + ("-" if self._keep_hyphen(left, right) else "") + right

    def _heading_like(self, line: _Line) -> bool:
        if line.size <= 0 or len(line.text) > _MAX_HEADING_CHARS or not _LETTER.search(line.text):
            return False
        if line.size >= self.body_size * 1.15:
            return True
        return (
            line.bold
            and not self.body_bold
            and abs(line.size - self.body_size) < 0.6
            and len(line.text) <= 80
            and not line.text.endswith((".", ",", ";"))
        )

    def level(self, line: _Line) -> int | None:
        return self.levels.get(line.style) if self._heading_like(line) else None

    def title_lines(self, pages: list[list[_Line]]) -> int:
        """How many heading lines open the first page with text (a title page's title)."""
        lines = pages[self.first_page - 1]
        count = 0
        while count < len(lines) and count < 4 and self.level(lines[count]) is not None:
            count += 1
        return count

    def title(self, pages: list[list[_Line]], title_lines: int) -> str:
        lines = pages[self.first_page - 1]
        if title_lines:
            return " ".join(line.text for line in lines[:title_lines])[:200]
        return meaningful_line("\n".join(line.text for line in lines[:20]))

    def emit_page(self, lines: list[_Line], builder: SectionBuilder, skip_headings: int) -> None:
        pieces: list[str] = []
        previous: _Line | None = None
        i = 0
        while i < len(lines):
            line = lines[i]
            level = self.level(line) if i >= skip_headings else None
            if level is not None:
                parts = [line.text]
                i += 1
                while (
                    i < len(lines)
                    and len(parts) < _MAX_HEADING_LINES
                    and lines[i].style == line.style
                    and self.level(lines[i]) is not None
                ):
                    parts.append(lines[i].text)
                    i += 1
                builder.add("".join(pieces))
                pieces, previous = [], None
                builder.heading(level, " ".join(parts))
                continue
            if previous is None:
                pieces.append(line.text)
            else:
                pieces[-1], separator = self._join(previous, line, pieces[-1])
                pieces.append(separator + line.text)
            previous = line
            i += 1
        builder.add("".join(pieces))

    def _join(self, prev: _Line, cur: _Line, prev_piece: str) -> tuple[str, str]:
        """How the previous line meets this one: (previous piece, possibly de-hyphenated; separator)."""
        text, nxt = prev.text, cur.text
        if len(text) >= 2 and text[-1] in _HYPHENS and text[-2].isalpha() and nxt[:1].isalpha():
            keep = self._keep_hyphen(text[:-1], nxt)
            return prev_piece[:-1] + ("-" if keep else ""), ""
        if _LIST_ITEM.match(nxt):
            return prev_piece, "\n"
        if _CJK.match(nxt) and _CJK.match(text[-1]):
            return prev_piece, ""
        if nxt[:1].islower():
            return prev_piece, " "
        if text.endswith(_TERMINAL) and len(text) < 0.75 * self.full_width:
            return prev_piece, "\n\n"
        if self.trailing_mode and prev.soft_end:
            return prev_piece, " "
        if not self.trailing_mode and len(text) >= self.full_width and not text.endswith(_TERMINAL):
            return prev_piece, " "
        return prev_piece, "\n\n" if text.endswith(_TERMINAL) else "\n"

    def _keep_hyphen(self, left_text: str, right_text: str) -> bool:
        """Keep a line-end hyphen when the document (or, failing that, an English word list) says so."""
        left = _LEFT_WORD.search(left_text)
        right = _RIGHT_WORD.match(right_text)
        if not left or not right:
            return True
        hyphenated = f"{left.group()}-{right.group()}".lower()
        joined = f"{left.group()}{right.group()}".lower()
        for vocabulary in (self._vocabulary(), _english_words()):
            if hyphenated in vocabulary:
                return True
            if joined in vocabulary:
                return False
        return True

    def _vocabulary(self) -> set[str]:
        if self._vocab is None:
            self._vocab = set()
            for lines in self._pages:
                for line in lines:
                    self._vocab.update(w.lower() for w in _WORDS.findall(line.text))
        return self._vocab


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    from unstructured.nlp.english_words import ENGLISH_WORDS

    return frozenset(ENGLISH_WORDS)


def _meta_title(value: str) -> str:
    title = _FILE_TITLE.sub("", collapse_spaces(value or ""))
    return "" if len(title) < 3 or title.lower() in _BAD_TITLES else title


def _pdf_date(value: str) -> str:
    match = _PDF_DATE.match(value.strip())
    if not match:
        return value.strip()
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    stamp = f"{year}-{month or '01'}-{day or '01'}T{hour or '00'}:{minute or '00'}:{second or '00'}"
    if sign in ("Z", "z"):
        return stamp + "+00:00"
    if sign:
        return f"{stamp}{sign}{tz_hour or '00'}:{tz_minute or '00'}"
    return stamp
