"""Proper names in an answer sentence. A model paraphrases words but not names, so like a number, a
name the answer states must be in the source it cites: "Ilse Varga designed the Velmora footbridge
[1]" is not supported by a source that names someone else, however many of its other words it shares.

Latin script: capitalised words that do not open a sentence or clause ("Ilse", "Velmora"). Chinese:
the words jieba tags as names of people, places, organisations and other proper names (刘洋, 青川县).
A name is looked up in the source as written (case aside), not as tokens: jieba may cut a name
differently inside a longer text.

    names_in("The translation was by Ilse Varga.")  # {"Ilse", "Varga"}
    mentions("Structural engineer Ilse Varga designed ...", "Varga")  # True
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag_core.tokens import has_cjk, jieba_module

_CAPITALISED = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*?(?=['’]s\b|[^\w'’-]|$)")  # Varga's: Varga
_OPENS = "\"'“‘([{:;.!?*#>-–—•·、，。：；！？"  # a capital after these may just open a sentence or clause
_CJK_NAME_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz"})


@lru_cache(maxsize=4096)
def names_in(sentence: str) -> frozenset[str]:
    names = {
        m.group()
        for m in _CAPITALISED.finditer(sentence)
        if sentence[: m.start()].rstrip()[-1:] not in ("", *_OPENS) and m.group() != "I"
    }
    if has_cjk(sentence):
        jieba_module()
        import jieba.posseg

        names |= {w.word for w in jieba.posseg.cut(sentence) if w.flag in _CJK_NAME_TAGS}
    return frozenset(names)


def mentions(text: str, name: str) -> bool:
    """Whether `text` names `name`: as a whole word in Latin script, anywhere in Chinese (case aside)."""
    text, name = text.casefold(), name.casefold()
    if has_cjk(name):
        return name in "".join(text.split())
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None
