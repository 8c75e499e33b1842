"""Find the files to ingest under the paths a user named."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag_core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: Path  # absolute, resolved
    root: Path  # the PATH argument it was found under
    relpath: str  # path relative to the root's parent folder for files, to the root for folders


def walk(paths: Iterable[Path], *, include_hidden: bool = False) -> list[FoundFile]:
    """Every regular file under `paths` (recursively), sorted, each once. Missing paths are a usage error."""
    found: dict[Path, FoundFile] = {}
    for given in paths:
        root = Path(given).expanduser()
        if not root.exists():
            raise ConfigError(
                f"{given}: no such file or folder", hint="check the path you passed to rag ingest"
            )
        root = root.resolve()
        if root.is_file():
            found.setdefault(root, FoundFile(root, root, root.name))
            continue
        for folder, dirs, files in os.walk(root):
            if not include_hidden:
                dirs[:] = [d for d in dirs if not d.startswith(".")]
            dirs.sort()
            for name in sorted(files):
                if not include_hidden and name.startswith("."):
                    continue
                path = Path(folder, name)
                if path.is_symlink() and not path.exists():
                    continue
                resolved = path.resolve()
                found.setdefault(resolved, FoundFile(resolved, root, path.relative_to(root).as_posix()))
    return sorted(found.values(), key=lambda f: (str(f.root), f.relpath))


def is_under(source: str, roots: Iterable[Path]) -> bool:
    path = Path(source)
    return any(path == root or root in path.parents for root in roots)
