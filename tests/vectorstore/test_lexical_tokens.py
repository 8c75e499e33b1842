"""Tokens for BM25 and for matching questions against sentences, English and Chinese."""

from __future__ import annotations

from rag_core.tokens import lexical_tokens, match_terms, question_terms


def test_english_tokens_are_lower_cased_words_without_function_words() -> None:
    assert lexical_tokens("The NR-7 runs for 11 hours.") == ["nr", "7", "runs", "11", "hours"]


def test_chinese_documents_are_segmented_in_search_mode_and_questions_in_precise_mode() -> None:
    assert {"沿海", "地区", "沿海地区"} <= set(lexical_tokens("沿海地区"))
    assert "沿海" not in lexical_tokens("沿海地区", query=True)


def test_match_terms_of_a_question_drop_question_words() -> None:
    assert match_terms("How many rescues did Ada Holt have?", query=True) == match_terms("rescues Ada Holt")
    terms = match_terms("有多少个特大工业区？", query=True)
    assert not terms & {"多少", "个特", "少个"}  # question words, bigrams across words
    assert {"工业", "特大"} <= terms


def test_words_mixing_letters_and_digits_also_yield_their_parts() -> None:
    assert lexical_tokens("VMC2022的举办地", query=True) == ["vmc2022", "vmc", "2022", "举办地"]
    assert {"vmc", "2022"} <= set(lexical_tokens("VMC 2022 会议"))
    assert lexical_tokens("the 15th century, 1950s, M1") == ["15th", "15", "century", "1950s", "1950", "m1"]


def test_match_terms_of_a_question_drop_joining_words() -> None:
    terms = match_terms("What was the first fault during the dry-dock test?", query=True)
    assert terms == match_terms("first fault dry dock test")
    assert len(terms) == 5


def test_chinese_sentences_share_character_bigrams_with_differently_segmented_questions() -> None:
    question = match_terms("有多少个特大工业区？", query=True)
    assert {"特大", "工业"} <= match_terms("该县拥有两个特大工业园。") & question
    assert not match_terms("青川县气候温和。") & question


def test_english_words_match_in_any_inflection() -> None:
    question = match_terms("What year did Ilse Varga die?", query=True)
    assert "die" in question & match_terms("Ilse Varga died on 3 March 1911.")
    assert match_terms("What causes strain in structures?", query=True) & match_terms("all strains")
    assert "die" in match_terms("王启帆 died", query=True) & match_terms("王启帆 dies")  # English in Chinese


def test_chinese_words_sharing_a_character_still_match_and_which_words_do_not() -> None:
    question = match_terms("这所医院的捐款有多少?", query=True)
    assert "捐" in question & match_terms("青川医院收到3.7亿元捐赠，在全县医院里排第一。")
    assert "家" not in match_terms("哪家供应商提供钛链轮？", query=True)  # 哪家 asks "which"
    assert question_terms("哪家供应商提供钛链轮？") == ["供应商", "提供", "钛", "链轮"]


def test_chinese_pronouns_negations_and_when_words_are_question_words_as_in_english() -> None:
    assert question_terms("When did they not accept this plan?") == ["accept", "plan"]
    assert question_terms("他们为什么不同意这个计划？") == ["同意", "计划"]
    assert question_terms("王启帆是什么时候去世的？") == ["王启帆", "去世"]  # 时候 of 什么时候, "when"
