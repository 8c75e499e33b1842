"""A tiny Llama-3-format GGUF (Llama-3 special tokens, BOS and official chat template, hand-set weights):
exercises the GGUF, transformers and llama.cpp loading paths with a model of a few kilobytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The official Llama-3 Instruct chat template, verbatim from meta-llama/Meta-Llama-3-8B-Instruct's
# tokenizer_config.json ("chat_template"; the same string ships with Meta-Llama-3-70B-Instruct).
LLAMA3_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA3_SPECIAL_TOKENS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
]


def _byte_level_alphabet() -> list[str]:
    """GPT-2 byte-to-unicode table, the alphabet of Llama-3's byte-level BPE."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def write_llama3_format_gguf(path: Path, favourite: str) -> Path:
    """A tiny Llama-architecture GGUF with Llama-3's special tokens, BOS handling and official chat template.

    The weights make greedy decoding always pick `favourite`: every block writes nothing to the residual
    stream, the embedding's first dimension is 1 for every token, and only `favourite`'s output row reads it.
    """
    import gguf

    tokens = [*_byte_level_alphabet(), "Ġt", "he", *LLAMA3_SPECIAL_TOKENS]
    ids = {t: i for i, t in enumerate(tokens)}
    n_embd, n_head, n_ff, vocab = 64, 4, 128, len(tokens)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama3-format")
    writer.add_context_length(2048)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(1)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_rope_freq_base(500000.0)
    writer.add_vocab_size(vocab)
    writer.add_file_type(0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * (vocab - len(LLAMA3_SPECIAL_TOKENS)) + [3] * len(LLAMA3_SPECIAL_TOKENS))
    writer.add_token_merges(["Ġ t", "h e"])
    writer.add_bos_token_id(ids["<|begin_of_text|>"])
    writer.add_eos_token_id(ids["<|eot_id|>"])
    writer.add_add_bos_token(True)
    writer.add_chat_template(LLAMA3_CHAT_TEMPLATE)
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 0.01, (vocab, n_embd)).astype(np.float32)
    embedding[:, 0] = 1.0
    first = np.zeros(n_embd, np.float32)
    first[0] = 1.0
    output = np.zeros((vocab, n_embd), np.float32)
    output[ids[favourite], 0] = 10.0
    writer.add_tensor("token_embd.weight", embedding)
    writer.add_tensor("output_norm.weight", first)
    writer.add_tensor("output.weight", output)
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(n_embd, np.float32))
    writer.add_tensor("blk.0.ffn_norm.weight", np.ones(n_embd, np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        writer.add_tensor(f"blk.0.{name}.weight", np.zeros((n_embd, n_embd), np.float32))
    writer.add_tensor("blk.0.ffn_gate.weight", np.zeros((n_ff, n_embd), np.float32))
    writer.add_tensor("blk.0.ffn_up.weight", np.zeros((n_ff, n_embd), np.float32))
    writer.add_tensor("blk.0.ffn_down.weight", np.zeros((n_embd, n_ff), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def save_as_hf_directory(gguf: Path, directory: Path) -> Path:
    """The GGUF's model and tokenizer saved as a Hugging Face model directory (safetensors, float32)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(directory))
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    config.__dict__.pop("quantization_config", None)  # a model loaded from GGUF refuses save_pretrained
    plain = type(loaded)(config)
    plain.load_state_dict(loaded.state_dict())
    plain.save_pretrained(str(directory))
    return directory
