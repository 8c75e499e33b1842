"""Turn one file into a `LoadedDocument`, offline, for every supported format.

`load_file` picks a loader by extension (case-insensitive), or by sniffing the content when the
extension is missing or unknown, and turns every bad input into a one-line `DocumentError`:
`skipped=True` for inputs that are simply not ingestible (unsupported, empty, no text, too large),
`skipped=False` for failures (corrupt, encrypted, binary junk, unreadable).
"""

from __future__ import annotations

import importlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument

__all__ = ["PARSER_VERSION", "SUPPORTED_EXTENSIONS", "load_file"]

PARSER_VERSION = 2
"""Bumped when loaders change what they extract, so `rag ingest` re-processes unchanged files."""

Loader = Callable[[Path, bytes], LoadedDocument]

# extension -> (what to call it in messages, module under ingest.loaders, function); imported on first use
_LOADERS: dict[str, tuple[str, str, str]] = {
    ".pdf": ("PDF", "pdf", "load"),
    ".docx": ("DOCX", "docx", "load"),
    ".pptx": ("PPTX", "pptx", "load"),
    ".xlsx": ("XLSX", "spreadsheet", "load_xlsx"),
    ".xlsm": ("XLSX", "spreadsheet", "load_xlsx"),
    ".csv": ("CSV", "spreadsheet", "load_csv"),
    ".tsv": ("CSV", "spreadsheet", "load_csv"),
    ".html": ("HTML", "html", "load"),
    ".htm": ("HTML", "html", "load"),
    ".xhtml": ("HTML", "html", "load"),
    ".md": ("Markdown", "markdown", "load"),
    ".markdown": ("Markdown", "markdown", "load"),
    ".txt": ("text", "text", "load"),
    ".text": ("text", "text", "load"),
    ".log": ("text", "text", "load"),
    ".rst": ("text", "text", "load"),
    ".eml": ("e-mail", "email", "load"),
}

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_LOADERS)

_SNIFF_BYTES = 4096
_OOXML = {"word/": ".docx", "ppt/": ".pptx", "xl/": ".xlsx"}
_HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[ \t]")
_EMAIL_HEADERS = re.compile(
    rb"^(?:from|to|subject|date|message-id|mime-version|received|return-path|delivered-to):", re.M | re.I
)
_BINARY_MAGIC = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a zip archive or Office file",
    b"\xd0\xcf\x11\xe0": "a legacy Office (.doc/.xls/.ppt) file",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"MZ": "a Windows executable",
    b"\x7fELF": "an executable",
}


def load_file(path: Path, *, max_bytes: int | None = None) -> LoadedDocument:
    """Load one file. Raises `DocumentError` (with `hint` and `skipped`) for every bad input."""
    path = Path(path)
    size = _stat_size(path)
    if size == 0:
        raise DocumentError(f"{path.name} is empty", hint="nothing to ingest", skipped=True)
    if max_bytes is not None and size > max_bytes:
        raise DocumentError(
            f"{path.name} is {_mb(size)} MB, over the {_mb(max_bytes)} MB limit",
            hint="raise the maximum file size setting or split the file",
            skipped=True,
        )
    suffix = path.suffix.lower()
    if suffix not in _LOADERS and suffix:
        with _reading(path), path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        suffix = _sniff(head, path, allow_text=False) or ""
        if not suffix:
            raise DocumentError(
                f"{path.name}: unsupported file type '{path.suffix}'",
                hint="supported: " + ", ".join(sorted(SUPPORTED_EXTENSIONS)),
                skipped=True,
            )
    with _reading(path):
        data = path.read_bytes()
    if not suffix:
        suffix = _sniff(data[:_SNIFF_BYTES], path, allow_text=True) or ""
        if not suffix:
            raise DocumentError(
                f"{path.name}: file type not recognised (no extension, content is not text)",
                hint="add the right extension; supported: " + ", ".join(sorted(SUPPORTED_EXTENSIONS)),
                skipped=True,
            )
    kind, module, function = _LOADERS[suffix]
    loader: Loader = getattr(importlib.import_module(f"ingest.loaders.{module}"), function)
    try:
        return loader(path, data)
    except DocumentError as exc:
        if not exc.skipped and suffix in (
            ".txt",
            ".text",
            ".log",
            ".rst",
            ".md",
            ".markdown",
            ".csv",
            ".tsv",
        ):
            exc.hint = _misnamed_hint(data[:_SNIFF_BYTES]) or exc.hint
        raise
    except MemoryError as exc:
        raise DocumentError(f"{path.name}: out of memory while parsing", hint="split the file") from exc
    except RecursionError as exc:
        raise DocumentError(
            f"{path.name}: {kind} structure nested too deeply", hint="simplify the file"
        ) from exc
    except Exception as exc:
        raise DocumentError(
            f"{path.name}: cannot parse {kind} file ({type(exc).__name__}: {one_line(exc)})",
            hint="the file may be corrupt or not really " + kind + "; re-save it from its application",
        ) from exc


def _stat_size(path: Path) -> int:
    with _reading(path):
        info = path.stat()
    if path.is_dir():
        raise DocumentError(
            f"{path.name} is a directory", hint="pass a file, or ingest the folder", skipped=True
        )
    return info.st_size


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turns OS errors into one-line document failures."""
    try:
        yield
    except PermissionError as exc:
        raise DocumentError(
            f"cannot read {path.name}: permission denied", hint="check the file's permissions"
        ) from exc
    except FileNotFoundError as exc:
        raise DocumentError(f"{path.name} does not exist", hint="check the path") from exc
    except OSError as exc:
        raise DocumentError(
            f"cannot read {path.name}: {one_line(exc)}", hint="check the file and the disk"
        ) from exc


def _sniff(head: bytes, path: Path, *, allow_text: bool) -> str | None:
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return ".pdf"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_ooxml(path)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or (
        stripped.startswith(b"<") and b"<body" in stripped
    ):
        return ".html"
    if _HEADER_LINE.match(stripped) and len(_EMAIL_HEADERS.findall(head)) >= 2:
        return ".eml"
    if allow_text and b"\x00" not in head and not any(head.startswith(m) for m in _BINARY_MAGIC):
        return ".txt"
    return None


def _sniff_ooxml(path: Path) -> str | None:
    try:
        with path.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None
    for prefix, suffix in _OOXML.items():
        if any(name.startswith(prefix) for name in names):
            return suffix
    return None


def _misnamed_hint(head: bytes) -> str:
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return f"the content looks like {what}, not text; fix the file extension"
    return ""


def one_line(exc: BaseException, limit: int = 200) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:limit]


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}"
