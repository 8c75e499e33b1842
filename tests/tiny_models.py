"""Tiny randomly initialised BERT models saved like Hub model directories, so the real sentence-transformers
loading and scoring code runs offline and in a second: a cross-encoder (one relevance logit) and a plain
encoder that sentence-transformers wraps with mean pooling. Their tokenizer is character-level WordPiece
built here, so any lowercase text gets distinct tokens and no model files are needed."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_char_tokenizer(path: Path) -> Any:
    from transformers import BertTokenizerFast

    characters = string.ascii_lowercase + string.digits
    vocab = [*SPECIAL, *string.punctuation, *characters, *(f"##{c}" for c in characters)]
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    tokenizer.save_pretrained(str(path))
    return tokenizer


def _bert_config(vocab_size: int, **extra: Any) -> Any:
    from transformers import BertConfig

    return BertConfig(  # type: ignore[call-arg]  # num_labels is a PretrainedConfig kwarg
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        initializer_range=0.5,  # wide weights, so different texts get clearly different outputs
        **extra,
    )


def save_tiny_cross_encoder(path: Path) -> Path:
    import torch
    from transformers import BertForSequenceClassification

    tokenizer = save_char_tokenizer(path)
    torch.manual_seed(0)
    BertForSequenceClassification(_bert_config(len(tokenizer), num_labels=1)).save_pretrained(str(path))
    return path


def save_tiny_encoder(path: Path) -> Path:
    import torch
    from transformers import BertModel

    tokenizer = save_char_tokenizer(path)
    torch.manual_seed(0)
    BertModel(_bert_config(len(tokenizer))).save_pretrained(str(path))
    return path
