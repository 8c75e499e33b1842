"""Which document a file is: the key incremental ingest matches a file against the catalog by.

An uploaded file is known by its collection's upload folder and its name, `uploads/<collection key>/<name>`,
whatever data dir holds it: API hosts with separate data dirs on one catalog (PostgreSQL) then replace the
same document when a file of the same name is uploaded through either. Any other file is known by its
absolute path.

    folder = upload_folder(data_dir, "handbook")          # where uploads of "handbook" are saved
    document_key(str(folder / "policy.md"), "handbook")   # "uploads/handbook_<digest>/policy.md"
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath

from vectorstore.naming import collection_key

UPLOADS = "uploads"


def upload_folder(data_dir: Path, collection: str) -> Path:
    """The folder uploads of `collection` (a validated name) are saved in, named by its storage key."""
    return data_dir / UPLOADS / collection_key(collection)


def document_key(source: str, collection: str) -> str:
    parts = PurePath(source).parts
    if len(parts) >= 3 and parts[-3] == UPLOADS and parts[-2] == collection_key(collection):
        return "/".join(parts[-3:])
    return source


def doc_id_for(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24]
