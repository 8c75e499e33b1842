"""The original file of an indexed document, for `GET /v1/collections/{c}/documents/{doc_id}/file`.

The path comes from the catalog (recorded at ingest), never from the request: a client names a document
by its `doc_id` and can reach no other file. A file that is no longer a regular file at that place (moved,
deleted, replaced by a link) is 404.

path, row = original_file(state, "handbook", doc_id)
response = file_response(path, row)     # PDF and images inline; text inline as UTF-8; the rest a download
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse, Response

from api.state import AppState
from ingest.loaders.encoding import decode_bytes
from rag_core.errors import DocumentError, NotFoundError
from vectorstore.records import DocumentRow

# Shown in the browser as they are: none of them can run script in the page's origin.
INLINE_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
# Decoded (any common encoding, as ingest reads them) and shown as UTF-8 plain text.
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".csv", ".tsv", ".log", ""}
MAX_TEXT_BYTES = 20 * 1024 * 1024
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}
# No script, no forms, no same-origin access for anything the browser might render itself.
SANDBOX = {"Content-Security-Policy": "sandbox"}


def original_file(state: AppState, collection: str, doc_id: str) -> tuple[Path, DocumentRow]:
    """The file of indexed document `doc_id` of `collection`. NotFoundError when there is none."""
    index = state.components.index
    info = index.collection(collection)
    row = index.catalog.document(info.name, doc_id)
    listing = f"list documents with GET /v1/collections/{info.name}/documents"
    if row is None:
        raise NotFoundError(f"document {doc_id!r} is not in collection {info.name!r}", hint=listing)
    if not row.version:
        raise NotFoundError(
            f"{row.relpath!r} was not indexed ({row.error or 'ingest failed'}), so it has no file to open",
            hint="fix the file and ingest it again",
        )
    path = Path(row.source)
    gone = NotFoundError(
        f"the file of {row.relpath!r} is no longer where it was ingested from",
        hint="ingest it from its new place (rag ingest --prune drops documents whose files are gone)",
    )
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise gone from None
    if not path.is_absolute() or resolved != path or not resolved.is_file():
        raise gone
    return resolved, row


def file_response(path: Path, row: DocumentRow) -> Response:
    """PDF and images inline; text files inline as UTF-8 text; everything else (HTML included: it would
    run in the page's origin) as a download. Never sniffed into another type by the browser."""
    name = Path(row.relpath).name or path.name
    suffix = path.suffix.lower()
    if suffix in INLINE_TYPES:
        return FileResponse(
            path,
            media_type=INLINE_TYPES[suffix],
            filename=name,
            content_disposition_type="inline",
            headers=SAFE_HEADERS,
        )
    if suffix in TEXT_SUFFIXES and path.stat().st_size <= MAX_TEXT_BYTES:
        try:
            text, _ = decode_bytes(path.read_bytes(), name)
        except DocumentError:
            text = None
        if text is not None:
            return Response(
                text.encode("utf-8"),
                media_type="text/plain; charset=utf-8",
                headers={**SAFE_HEADERS, **SANDBOX, "Content-Disposition": disposition("inline", name)},
            )
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or "html" in media_type or "xml" in media_type:
        media_type = "application/octet-stream"
    return FileResponse(path, media_type=media_type, filename=name, headers={**SAFE_HEADERS, **SANDBOX})


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header value for `name` (RFC 6266; non-ASCII names as UTF-8)."""
    quoted = quote(name)
    return f"{kind}; filename*=utf-8''{quoted}" if quoted != name else f'{kind}; filename="{name}"'
