"""Language resources: the data files the code reads its word lists from, and the loader."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_core import language
from rag_core.language import alternation, phrases, words

# the kinds the code reads, and the languages it reads them in
USED = {
    "lexical_stopwords": ("en", "zh"),
    "question_words": ("en", "zh"),
    "stopwords": ("en",),
    "months": ("en",),
    "abbreviations": ("en",),
    "source_words": ("en", "zh"),
    "source_labels": ("en", "zh"),
    "source_names": ("en", "zh"),
    "see_words": ("en", "zh"),
    "and_words": ("en", "zh"),
    "refusal_openers": ("en", "zh"),
    "refusal_lead_ins": ("en", "zh"),
    "refusal_sources": ("en", "zh"),
    "refusal_cannot_verbs": ("en", "zh"),
    "refusal_lacking_verbs": ("en", "zh"),
    "refusal_missing_nouns": ("en", "zh"),
    "refusal_none_sources": ("en",),
    "refusal_none_verbs": ("en",),
    "refusal_absent_words": ("en",),
    "refusals": ("zh",),
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The loader reading from an empty directory instead of the package's files."""
    monkeypatch.setattr(language, "_directory", lambda: tmp_path)
    language._entries.cache_clear()
    language._phrases.cache_clear()
    yield tmp_path
    language._entries.cache_clear()
    language._phrases.cache_clear()


@pytest.mark.parametrize(("kind", "lang"), [(k, lang) for k, langs in USED.items() for lang in langs])
def test_every_kind_the_code_reads_has_entries(kind: str, lang: str) -> None:
    assert words(kind, (lang,))


def test_entries_are_stripped_lower_case_and_in_their_language() -> None:
    for lang_dir in language._directory().iterdir():
        for file in lang_dir.iterdir():
            kind = file.name.removesuffix(".txt")
            for entry in words(kind, (lang_dir.name,)):
                assert entry == entry.strip() == entry.lower() and "#" not in entry, (file, entry)
                assert entry.isascii() == (lang_dir.name == "en"), (file, entry)


def test_comments_and_blank_lines_are_ignored_and_entries_normalised(files: Path) -> None:
    (files / "en").mkdir()
    (files / "en" / "things.txt").write_text(
        "# a comment\n\n  Alpha  \nbeta   gamma  # trailing comment\n\t\n#beta\nalpha\n", encoding="utf-8"
    )
    assert phrases("things", ("en",)) == ("beta gamma", "alpha")


def test_languages_combine_and_phrases_come_longest_first() -> None:
    assert words("question_words") == words("question_words", ("en",)) | words("question_words", ("zh",))
    lengths = [len(p) for p in phrases("source_labels")]
    assert lengths == sorted(lengths, reverse=True)
    assert words("source_words", ["en"]) == words("source_words", ("en",))  # a list will do


def test_an_alternation_escapes_entries_and_spans_white_space() -> None:
    labels = re.compile(rf"{alternation('source_labels', ('en',))}$")
    assert labels.match("doc.") and not labels.match("docx")  # the dot is a dot
    lead_in = re.compile(alternation("refusal_lead_ins", ("en",)))
    assert lead_in.fullmatch("according\n  to")


def test_a_missing_kind_names_the_file(files: Path) -> None:
    (files / "en").mkdir()
    with pytest.raises(FileNotFoundError, match=r"'no_such_kind'.*no_such_kind\.txt"):
        words("no_such_kind", ("en",))
    with pytest.raises(FileNotFoundError, match=r"'xx'"):
        words("stopwords", ("xx",))
    with pytest.raises(ValueError):
        words("../en/stopwords", ("en",))


def test_an_alternation_of_nothing_is_refused(files: Path) -> None:
    (files / "en").mkdir()
    (files / "en" / "empty.txt").write_text("# nothing yet\n", encoding="utf-8")
    assert words("empty", ("en",)) == frozenset()
    with pytest.raises(ValueError, match="no entries"):
        alternation("empty", ("en",))


def test_the_command_line_and_query_modules_do_not_import_sklearn() -> None:
    code = (
        "import sys, pkgutil, importlib, rag_cli, rag.query\n"
        "for m in pkgutil.iter_modules(rag.query.__path__): importlib.import_module('rag.query.' + m.name)\n"
        "import rag_core.tokens\n"
        "print('sklearn' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
