"""Collection names as users write them, and the storage-safe keys derived from them.

Users may name a collection in any script (`产品手册`, `hr-policies`); Chroma accepts 3-512 chars of
[a-zA-Z0-9._-] and SQLite table names must be plain identifiers, so storage uses a stable key.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rag_core.errors import InvalidInputError

MAX_NAME = 64
# The one rule, as users read it; the chat page checks the same rule (api/static/app.js, validName) and
# /v1/info publishes MAX_NAME to it.
NAME_RULE = (
    f"1-{MAX_NAME} characters in any language (spaces allowed); "
    "no '/', '\\' or control characters, and not only dots"
)


def validate_collection_name(name: str) -> str:
    """The name as stored: surrounding whitespace stripped, NFC-normalised. Raises on a name that breaks
    NAME_RULE (counted in code points after stripping and normalising)."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name) > MAX_NAME:
        raise InvalidInputError(
            f"collection name must be 1-{MAX_NAME} characters, got {len(name)}",
            hint=f"a collection name has {NAME_RULE}",
            http_status=422,
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name) or "/" in name or "\\" in name:
        problem = "contains a control character or a slash"
    elif not name.strip("."):
        problem = "is only dots"
    else:
        return name
    raise InvalidInputError(
        f"collection name {name!r} {problem}", hint=f"a collection name has {NAME_RULE}", http_status=422
    )


def collection_key(name: str, instance: str = "") -> str:
    """Storage key of a collection. `instance` (the catalog's id) keeps two data dirs that share one
    Chroma server apart, while API replicas that share a data dir share their collections."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "c"
    digest = hashlib.sha1(f"{instance}/{name}".encode()).hexdigest()[:10]
    return f"{slug}_{digest}"
