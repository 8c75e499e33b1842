"""Citations: parse `[n]` markers, drop those that name no source, and check every claim's support.

A sentence of the answer is *supported* by a source when most of its content words occur in that
source (lexical support, no model needed), and most of what it adds to the question sits in one
sentence of the source with what it is about. Numbers are compared by value (六百元 supports 600元) and
must stand in that sentence, which must not be about other years than the claim names. Each sentence
keeps the citations whose source supports it; a sentence the model left uncited gets the source that
supports it best, if any does; a citation to a source that does not support its sentence is moved to
one that does, or dropped. Sentences no source supports stay uncited, and `groundedness` reports the
share of sentences that are supported. A list item's label ("2. ", "- ") is layout, not a claim, and
the answer keeps its line breaks; words that name the sources ("Based on the provided sources") claim
nothing, and "[Source 1]", "(Source 1)", "[^1]" or "According to Source 1" cite like [1]. Numbers are
read however they are written: 六百, 600, "three" and 3, "1.5 million" and 1,500,000, "second" and 2nd.

    cited = attribute("Paris is the capital [1].", {1: "Paris is the capital of France."})
    cited.text, cited.used_ids, cited.groundedness
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from rag.query.names import mentions, names_in
from rag.query.numerals import NUMBER, number_value
from rag_core.language import alternation, words
from rag_core.sentences import sentence_spans
from rag_core.tokens import has_cjk, lexical_tokens, script_of

# function words: no content word of a claim
_STOP_WORDS = words("stopwords", ("en",))
_SOURCE_WORD = alternation("source_labels")  # Source, doc., 来源, 参考资料
# [1], [1, 2], 【1】, and as models also write them: [Source 1], (Source 2), [doc 1], [^1], 【来源1】
MARKER = re.compile(
    rf"\s*(?:[\[【]\^?|[(（](?=\s*{_SOURCE_WORD}))\s*{_SOURCE_WORD}?\s*"
    rf"(\d+(?:\s*[,，、]\s*{_SOURCE_WORD}?\s*\d+)*)\s*[\]】)）]",
    re.IGNORECASE,
)
# a source named in the text ("According to Source 1", "sources 1 and 2", "根据来源2") cites, claims nothing
SOURCE_REF = re.compile(
    rf"(?<![A-Za-z0-9_\[【(（]){alternation('source_names')}"
    rf"\s*(\d+(?:\s*(?:[,，、&]|{alternation('and_words')})\s*\d+)*)(?!\d)",
    re.IGNORECASE,
)
# what a marker leaves behind in "(see [1])", "（见[1]）"
_EMPTY_PARENS = re.compile(
    rf"\s*[(（]\s*(?:{alternation('see_words')}|{alternation('source_names', ('en',))}:?"
    rf"|{alternation('source_names', ('zh',))}[:：]?)?\s*[)）]",
    re.IGNORECASE,
)
# words that say where a claim comes from, not what it claims: "Based on the provided sources, ..."
_ABOUT_SOURCES = words("source_words")
# a list item's label ("1. ", "2) ", "3、", "- ", "• "): layout, not part of the claim
LIST_ITEM = re.compile(r"(?:\d{1,3}[.)](?=\s)|\d{1,3}、|[（(]\d{1,3}[)）]|[-*•·](?=\s))\s*")
SUPPORT_THRESHOLD = 0.5


_SENTENCE_ENDS = ".。!！?？"
_CODE = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z-]*\d[\w-]*(?<!-)")
_CLAUSE_ENDS = ",，;；"


@dataclass(frozen=True, slots=True)
class CrossLanguage:
    """How a claim is checked against a source in the other script (an English answer citing a
    Chinese passage), where words cannot be compared: a source sentence supports it when it holds every
    number of the claim and a multilingual embedder finds the two sentences at least `threshold` similar
    (`similarity(sentence, source_sentences)` gives one score per source sentence)."""

    similarity: Callable[[str, Sequence[str]], Sequence[float]]
    threshold: float


@dataclass(frozen=True, slots=True)
class CitedAnswer:
    text: str
    used_ids: list[int]  # in order of first use
    groundedness: float  # share of answer sentences supported by the sources they cite
    sentences: int
    model_cited: bool  # the model itself produced at least one valid citation


@lru_cache(maxsize=8192)  # corroboration and citation checks read the same candidate sentences
def content_tokens(text: str) -> frozenset[str]:
    """Words that can carry a claim (no function words, no single letters), plus each whole number
    as `#2.5` (so 2.5 is not supported by a source that has 2 and 5 apart). Numbers are read, not
    matched as written: 六百元 and 600元 give the same tokens, 3.71万 is 37100, "three days" is
    "3 days" and "1.5 million" is 1500000."""
    read_as = ((m, number_value(m.group())) for m in NUMBER.finditer(text))
    values = [(m, value) for m, value in read_as if value[:1].isdigit()]  # not "twenty twenty"
    read = text
    for m, value in reversed(values):
        read = f"{read[: m.start()]}{value}{read[m.end() :]}"
    words = {t for t in lexical_tokens(read) if t not in _STOP_WORDS and (len(t) > 1 or not t.isascii())}
    return frozenset(words | {"#" + value for _, value in values})


def support(sentence_tokens: AbstractSet[str], source_tokens: AbstractSet[str]) -> float:
    """Share of the sentence's content words found in the source; 0 if any number is missing from it."""
    if not sentence_tokens:
        return 0.0
    if any(t.startswith("#") and t not in source_tokens for t in sentence_tokens):
        return 0.0
    return len(sentence_tokens & source_tokens) / len(sentence_tokens)


def colocated(
    claim: AbstractSet[str],
    about: AbstractSet[str],
    sentences: Sequence[frozenset[str]],
    threshold: float = SUPPORT_THRESHOLD,
    ruled_out: AbstractSet[int] = frozenset(),
) -> bool:
    """Whether what a sentence adds (`claim`) sits in the source next to what it is about (`about`: the
    question's words the sentence repeats, or all of them): one source sentence (given by its content
    tokens; those at positions `ruled_out` do not count) holds at least half of what it is about, a
    number of the claim if it has any, and at least `threshold` of the claim or all its numbers. "The
    ferry leaves at 9", for a question about the ferry, is not supported by a source where 9 is the
    bus's hour."""
    if not about or not claim:
        return True
    numbers = {t for t in claim if t.startswith("#")}
    return any(
        i not in ruled_out
        and (not numbers or numbers & s)
        and (len(s & claim) >= len(claim) * threshold or (numbers and numbers <= s))
        and len(s & about) >= len(about) * SUPPORT_THRESHOLD
        for i, s in enumerate(sentences)
    )


def stated_for_another(
    claim: AbstractSet[str],
    entities: AbstractSet[str],
    texts: Sequence[str],
    sentences: Sequence[frozenset[str]],
) -> frozenset[int]:
    """The source sentences that give the claim's figure for another entity than the one asked about:
    they name none of `entities`, while another sentence of the same source names one of them with a
    different figure of the same kind (a word of the claim beside it). "It carries 250 kg", asked
    about the NR-7, is not supported by "NR-5: 250 kg" in a source whose "NR-7: 450 kg" is the answer."""
    numbers = {t for t in claim if t.startswith("#")}
    words_ = claim - numbers
    if not numbers or not entities:
        return frozenset()
    named = [any(mentions(text, e) for e in entities) for text in texts]
    rivals = [
        i
        for i, s in enumerate(sentences)
        if named[i] and {t for t in s if t.startswith("#")} - numbers and s & words_
    ]
    return frozenset(
        i for i, s in enumerate(sentences) if not named[i] and numbers & s and any(j != i for j in rivals)
    )


def entities_in(text: str) -> frozenset[str]:
    """What a text names: its proper names and model-like codes (a word with a digit: NR-7, A320)."""
    return names_in(text) | frozenset(_CODE.findall(text))


def attribute(
    answer: str,
    sources: Mapping[int, str],
    *,
    threshold: float = SUPPORT_THRESHOLD,
    drop_unsupported: bool = False,
    question: str = "",
    across: CrossLanguage | None = None,
) -> CitedAnswer:
    """Cite each sentence by the sources that support it; with `drop_unsupported`, sentences that make
    a claim no source supports are removed from the text (they still count against groundedness).

    Given the `question`, only what a sentence adds to it is checked: a sentence that restates the
    question ("The director of the film is who [1]") claims nothing and is unsupported."""
    checked = _Sources(sources)
    asked = content_tokens(question) if question else frozenset()
    asked_entities = entities_in(question) if question else frozenset()
    pieces: list[str] = []
    used: dict[int, None] = {}
    supported = 0
    counted = 0
    model_cited = False
    joiner = "" if has_cjk(answer) else " "
    end = 0
    for a, b in sentence_spans(answer):
        gap, end = answer[end:a], b
        raw = answer[a:b]
        plain = _plain(raw)
        item = LIST_ITEM.match(plain)
        body = plain[item.end() :] if item else plain  # without its list label
        # what the sentence is about; a bare answer ("1901 [2]") is about the whole question
        about = (content_tokens(body) & asked) or asked
        stated = SOURCE_REF.sub(" ", body)  # "According to Source 1": the 1 is no claim
        tokens = content_tokens(stated)
        claim = frozenset(t for t in tokens - asked - _ABOUT_SOURCES if not t.isdigit())  # a number: #n
        refs = [*MARKER.finditer(raw), *SOURCE_REF.finditer(raw)]
        claimed = [int(n) for m in refs for n in re.findall(r"\d+", m.group(1))]
        model_cited = model_cited or any(n in sources for n in claimed)
        if not plain:
            continue
        names = [
            n for n in names_in(stated) if n.casefold() not in _ABOUT_SOURCES and not mentions(question, n)
        ]
        entities = asked_entities | entities_in(stated)
        keep = checked.supporting(claim, about, names, claimed, threshold, entities)
        if not keep and across is not None:
            keep = checked.supporting_across(stated, tokens, claimed, across)
        if tokens:
            counted += 1
            supported += bool(keep)
            if drop_unsupported and not keep:
                continue
        for n in keep:
            used.setdefault(n, None)
        line_break = "\n\n" if gap.count("\n") > 1 else "\n" if "\n" in gap else joiner
        pieces.append((line_break if pieces else "") + _with_markers(plain, keep))  # lists keep their lines
    text = "".join(pieces) if pieces else ("" if drop_unsupported else answer.strip())
    return CitedAnswer(text, list(used), supported / counted if counted else 0.0, counted, model_cited)


class _Sources:
    """The sources an answer cites, read once: their texts, their words and each sentence's words."""

    def __init__(self, sources: Mapping[int, str]) -> None:
        self.texts = dict(sources)
        spans = {i: sentence_spans(text) for i, text in sources.items()}
        self.sentence_texts = {i: [text[a:b] for a, b in spans[i]] for i, text in sources.items()}
        self.sentences = {i: [content_tokens(t) for t in texts] for i, texts in self.sentence_texts.items()}
        self.tokens = {i: frozenset().union(*per) for i, per in self.sentences.items()}

    def supporting(
        self,
        claim: AbstractSet[str],
        about: AbstractSet[str],
        names: Sequence[str],
        claimed: Sequence[int],
        threshold: float,
        entities: AbstractSet[str] = frozenset(),
    ) -> list[int]:
        """The cited sources (`claimed`) that support the claim and hold all its `names`, with the
        claim's figure given for one of `entities` (what the question or sentence names) where the
        source tells entities apart; if none does, the one that does best, if any does."""
        scores = {
            i: support(claim, tokens)
            if all(mentions(self.texts[i], name) for name in names)
            and colocated(
                claim,
                about,
                self.sentences[i],
                threshold,
                stated_for_another(claim, entities, self.sentence_texts[i], self.sentences[i]),
            )
            else 0.0
            for i, tokens in self.tokens.items()
        }
        keep = [n for n in dict.fromkeys(claimed) if n in scores and scores[n] >= threshold]
        if not keep and scores:
            best = max(scores, key=lambda i: scores[i])
            if scores[best] >= threshold:
                keep = [best]
        return keep

    def supporting_across(
        self, sentence: str, tokens: AbstractSet[str], claimed: Sequence[int], across: CrossLanguage
    ) -> list[int]:
        """The sources in another script than the sentence that support it (CrossLanguage): the cited
        ones, else the first that does."""
        script = script_of(sentence)
        numbers = {t for t in tokens if t.startswith("#")}
        foreign = [i for i in self.texts if script_of(self.texts[i]) != script]
        order = [i for i in dict.fromkeys(claimed) if i in foreign] or foreign
        for i in order:
            scores = across.similarity(sentence, self.sentence_texts[i])
            if any(
                score >= across.threshold and numbers <= tokens_j
                for score, tokens_j in zip(scores, self.sentences[i], strict=True)
            ):
                return [i]
        return []


def _plain(raw: str) -> str:
    return _EMPTY_PARENS.sub("", MARKER.sub("", raw)).strip()


def _with_markers(sentence: str, ids: list[int]) -> str:
    if not ids:
        return sentence
    marks = "".join(f"[{i}]" for i in ids)
    end = len(sentence)
    while end > 0 and sentence[end - 1] in _SENTENCE_ENDS + _CLAUSE_ENDS + ":：":
        end -= 1
    return f"{sentence[:end]} {marks}{sentence[end:]}" if end else f"{sentence} {marks}"
