from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval.dataset import SetError, load_set, select_split, split_of
from rag_core.errors import InvalidInputError

GOOD = {"id": "q1", "question": "Who?", "answers": ["Ann"], "answerable": True, "gold_docs": ["a.txt"]}


def make_set(root: Path, lines: list[str], docs: tuple[str, ...] = ("a.txt",)) -> Path:
    for doc in docs:
        (root / "docs" / doc).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / doc).write_text("Ann did it.", encoding="utf-8")
    (root / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def test_loads_questions_with_defaults(tmp_path: Path) -> None:
    root = make_set(tmp_path / "s", [line(), "", line(id=7, question="谁做的？", answers=[])])
    eval_set = load_set(root)
    assert eval_set.name == "s" and not eval_set.problems
    first, second = eval_set.questions
    assert first.lang == "en" and first.line == 1
    assert second.id == "7" and second.lang == "zh" and second.line == 3 and second.answers == ()


def test_bad_lines_are_skipped_with_their_line_numbers(tmp_path: Path) -> None:
    root = make_set(
        tmp_path / "s",
        [
            line(),
            "{not json",
            line(id="q2", gold_docs=["missing.txt"]),
            line(id="q1"),
            line(id="q4", answers="Ann"),
            "[1, 2]",
            line(id="q6", question=""),
            line(id="q7", gold_docs=[]),
            line(id="q8", gold_docs=["../a.txt"]),
            line(id="q9", answerable=False, gold_docs=[]),
        ],
    )
    eval_set = load_set(root)
    assert [q.id for q in eval_set.questions] == ["q1", "q9"]
    found = {p.line or 0: p.detail for p in eval_set.problems}
    assert sorted(found) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "invalid JSON" in found[2]
    assert "missing.txt" in found[3]
    assert "duplicate id 'q1' (first on line 1)" in found[4]
    assert "list of strings" in found[5]
    assert "JSON object" in found[6]
    assert "question" in found[7]
    assert "gold_docs" in found[8]
    assert all(str(root / "questions.jsonl") in p.message for p in eval_set.problems)


def test_strict_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    root = make_set(tmp_path / "s", [line(), line(id="q2", gold_docs=["nope.txt"])])
    with pytest.raises(SetError) as info:
        load_set(root, strict=True)
    assert info.value.line == 2
    assert str(info.value).startswith(f"{root / 'questions.jsonl'}:2: gold doc 'nope.txt'")
    assert isinstance(info.value, InvalidInputError) and info.value.hint


def test_structural_errors_stop(tmp_path: Path) -> None:
    with pytest.raises(SetError, match="no such folder"):
        load_set(tmp_path / "absent")
    (tmp_path / "nodocs").mkdir()
    with pytest.raises(SetError, match="no docs/ folder"):
        load_set(tmp_path / "nodocs")
    root = make_set(tmp_path / "noq", [])
    (root / "questions.jsonl").unlink()
    with pytest.raises(SetError, match="no questions file"):
        load_set(root)
    root = make_set(tmp_path / "allbad", ["{", "[]"])
    with pytest.raises(SetError, match="no usable question; first problem"):
        load_set(root)


def test_non_utf8_line_is_located(tmp_path: Path) -> None:
    root = make_set(tmp_path / "s", [line()])
    with (root / "questions.jsonl").open("ab") as fh:
        fh.write(b'{"id": "\xff"}\n')
    with pytest.raises(SetError) as info:
        load_set(root)
    assert info.value.line == 2 and "UTF-8" in info.value.message


def test_splits_are_fixed_disjoint_halves(tmp_path: Path) -> None:
    root = make_set(tmp_path / "s", [line(id=f"q{i}") for i in range(200)])
    questions = load_set(root).questions
    tune, check = select_split(questions, "tune"), select_split(questions, "check")
    assert {q.id for q in tune}.isdisjoint(q.id for q in check)
    assert len(tune) + len(check) == len(questions) == len(select_split(questions, "all"))
    assert 70 <= len(tune) <= 130  # a hash splits about evenly
    assert [q.id for q in select_split(list(reversed(questions)), "tune")] == [q.id for q in reversed(tune)]
    assert all(split_of(q.id) == "tune" for q in tune)


def test_unknown_split_is_refused(tmp_path: Path) -> None:
    questions = load_set(make_set(tmp_path / "s", [line()])).questions
    with pytest.raises(InvalidInputError, match="unknown split"):
        select_split(questions, "train")


def test_conversational_fields_are_read_and_checked(tmp_path: Path) -> None:
    history = [{"role": "user", "content": "Who runs the bakery?"}, {"role": "assistant", "content": "Ana."}]
    root = make_set(
        tmp_path,
        [
            line(id="f", history=history, meta={"standalone": "When does Ana's bakery open?"}),
            line(id="t", history=history, meta={"topic_shift": True}),
            line(id="bad-role", history=[{"role": "system", "content": "x"}]),
            line(id="bad-history", history="Who runs the bakery?"),
            line(id="bad-standalone", history=history, meta={"standalone": 3}),
        ],
    )
    eval_set = load_set(root)
    by_id = {q.id: q for q in eval_set.questions}
    assert set(by_id) == {"f", "t"}
    assert by_id["f"].turn == "follow-up" and by_id["f"].standalone == "When does Ana's bakery open?"
    assert [m.role for m in by_id["f"].history] == ["user", "assistant"]
    assert by_id["t"].turn == "topic-shift" and by_id["t"].standalone is None
    assert [p.line for p in eval_set.problems] == [3, 4, 5]
