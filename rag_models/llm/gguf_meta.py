"""Read a GGUF file's metadata header (architecture, trained context, chat template) without the tensors.

Faster than `gguf.GGUFReader` (which maps every tensor): arrays such as the vocabulary are skipped.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from rag_core.errors import ModelNotFound

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> object:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise EOFError
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    length = _read(f, "Q")
    assert isinstance(length, int)
    return f.read(length).decode("utf-8", errors="replace")


def _skip(f: BinaryIO, vtype: int, count: int) -> None:
    if vtype in _SCALARS:
        f.seek(struct.calcsize("<" + _SCALARS[vtype]) * count, 1)
    elif vtype == _STRING:
        for _ in range(count):
            length = _read(f, "Q")
            assert isinstance(length, int)
            f.seek(length, 1)
    elif vtype == _ARRAY:
        for _ in range(count):
            inner, n = _read(f, "I"), _read(f, "Q")
            assert isinstance(inner, int) and isinstance(n, int)
            _skip(f, inner, n)
    else:
        raise ValueError(f"unknown GGUF value type {vtype}")


def read_metadata(path: Path) -> dict[str, object]:
    """Scalar and string metadata of a GGUF file; arrays are left out."""
    try:
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelNotFound(
                    f"{path} is not a GGUF file", hint="point RAG_LLM__MODEL at a .gguf model file"
                )
            _read(f, "I")
            _read(f, "Q")
            count = _read(f, "Q")
            assert isinstance(count, int)
            meta: dict[str, object] = {}
            for _ in range(count):
                key = _string(f)
                vtype = _read(f, "I")
                assert isinstance(vtype, int)
                if vtype == _STRING:
                    meta[key] = _string(f)
                elif vtype in _SCALARS:
                    meta[key] = _read(f, _SCALARS[vtype])
                elif vtype == _ARRAY:
                    inner, n = _read(f, "I"), _read(f, "Q")
                    assert isinstance(inner, int) and isinstance(n, int)
                    _skip(f, inner, n)
                else:
                    raise ValueError(f"unknown GGUF value type {vtype}")
            return meta
    except (EOFError, ValueError, AssertionError, struct.error) as exc:
        raise ModelNotFound(
            f"{path} is not a readable GGUF file ({exc or 'truncated'})",
            hint="re-download the model file; it may be incomplete",
        ) from None
    except OSError as exc:
        raise ModelNotFound(
            f"cannot read {path}: {exc.strerror}", hint="check the path and permissions"
        ) from None


def trained_context(meta: dict[str, object]) -> int:
    arch = meta.get("general.architecture")
    value = meta.get(f"{arch}.context_length")
    return int(value) if isinstance(value, int) else 0
