"""EML (stdlib email, default policy): subject as title, a short header section, then the body.

text/plain is preferred; an HTML-only body goes through the HTML loader's extraction. Attachments are
not ingested; their file names are listed in metadata.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from ingest.clean import clean_text, collapse_spaces
from ingest.loaders._common import finish_document, title_from_name
from ingest.loaders.encoding import decode_bytes, junk_error
from ingest.loaders.html import html_to_sections
from rag_core.errors import DocumentError
from rag_core.types import LoadedDocument, Section

_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def load(path: Path, data: bytes) -> LoadedDocument:
    if b"\x00" in data[:65536]:
        raise junk_error(path.name, "NUL bytes")
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    if not any(message.get(h) for h in (*_HEADERS, "Message-ID", "MIME-Version", "Received")):
        raise DocumentError(
            f"{path.name} is not an e-mail message (no headers found)",
            hint="save the message from your mail client as .eml, or rename a plain note to .txt",
        )
    subject = _header(message, "Subject")
    metadata: dict[str, Any] = {}
    for name in ("From", "To", "Cc", "Message-ID"):
        value = _header(message, name)
        if value:
            metadata[name.lower().replace("-", "_")] = value
    date_text = _header(message, "Date")
    if date_text:
        try:
            metadata["date"] = parsedate_to_datetime(date_text).isoformat()
        except (TypeError, ValueError):
            metadata["date"] = date_text
    attachments = [a.get_filename() or "unnamed" for a in message.iter_attachments()]
    if attachments:
        metadata["attachments"] = attachments
    lines = [f"{h}: {_header(message, h)}" for h in _HEADERS if _header(message, h)]
    sections = [Section(text="\n".join(lines), kind="text")] if lines else []
    sections.extend(_body_sections(message, path.name))
    return finish_document(path, "eml", subject or title_from_name(path), sections, metadata)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        value = message.get_all(name, failobj=[""])[0] if message.get_all(name) else ""
    return collapse_spaces(str(value)) if value else ""


def _body_sections(message: EmailMessage, name: str) -> list[Section]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return []
    content = _part_text(part, name)
    if part.get_content_subtype() == "html":
        return html_to_sections(content)
    text = clean_text(content)
    return [Section(text=text)] if text else []


def _part_text(part: MIMEPart, name: str) -> str:
    if part.get_content_charset() is None:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return decode_bytes(payload, name)[0] if payload else ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True)
        return decode_bytes(payload, name)[0] if isinstance(payload, bytes) and payload else ""
    if isinstance(content, bytes):
        return decode_bytes(content, name)[0]
    return str(content)
