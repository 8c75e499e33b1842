"""Uploaded files land in `data_dir/uploads/<collection key>/<clean name>`; no name can leave that folder.

clean_filename("../../etc/passwd")   -> "passwd"
clean_filename("C:\\\\Users\\\\me\\\\报告.pdf") -> "报告.pdf"
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.identity import upload_folder
from rag_core.errors import InvalidInputError, LimitExceeded
from vectorstore.naming import validate_collection_name

MAX_NAME_BYTES = 180
_COPY_BLOCK = 1 << 20
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@&'#~]")


def clean_filename(raw: str) -> str:
    """The last path component of `raw`, with anything risky replaced. Raises on NUL and on empty names."""
    if "\x00" in raw:
        raise InvalidInputError(
            "file name contains a NUL byte", hint="rename the file and upload it again", http_status=400
        )
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    while len(name.encode()) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
        name = f"{stem}.{ext}" if ext else stem
    if not name or name in (".", ".."):
        raise InvalidInputError(
            f"file name {raw!r} has no usable characters", hint="rename the file", http_status=400
        )
    return name


def upload_dir(data_dir: Path, collection: str) -> Path:
    """The collection's upload folder, named by its storage key (never by the raw name)."""
    return upload_folder(data_dir, validate_collection_name(collection))


def target_path(folder: Path, name: str) -> Path:
    """`folder / name`, verified to stay inside `folder` after resolving."""
    root = folder.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise InvalidInputError(f"file name {name!r} is not allowed", hint="rename the file", http_status=400)
    return path


def save_upload(source: BinaryIO, folder: Path, name: str, budget: int) -> tuple[Path, int]:
    """Copy `source` to `folder/name` atomically; at most `budget` bytes, else LimitExceeded."""
    folder.mkdir(parents=True, exist_ok=True)
    path = target_path(folder, name)
    tmp = folder / f".upload-{secrets.token_hex(8)}"
    written = 0
    try:
        with tmp.open("wb") as out:
            while block := source.read(_COPY_BLOCK):
                written += len(block)
                if written > budget:
                    raise too_large(budget)
                out.write(block)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path, written


@dataclass(frozen=True, slots=True)
class Staged:
    """Files received completely, waiting in `staging` to replace same-named files in `folder`."""

    staging: Path
    folder: Path
    names: list[str]


def publish_uploads(staged: Staged) -> tuple[list[Path], int]:
    """Move staged files into their folder; returns their paths and total size."""
    paths, total = [], 0
    try:
        for name in staged.names:
            path = target_path(staged.folder, name)
            total += (staged.staging / name).stat().st_size
            os.replace(staged.staging / name, path)
            paths.append(path)
    finally:
        shutil.rmtree(staged.staging, ignore_errors=True)
    return paths, total


def too_large(limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"the upload is larger than the {limit / 2**20:g} MB limit",
        hint="upload fewer or smaller files, or raise RAG_API__MAX_UPLOAD_MB",
        http_status=413,
    )
