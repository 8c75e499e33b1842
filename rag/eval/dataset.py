"""Loading a benchmark set (layout in docs/eval.md): `docs/`, `questions.jsonl`, optional README.md.

Structural problems stop the load with a `SetError` (no folder, no `docs/`, no questions file, a file
that is not UTF-8, no usable question at all). A bad line (invalid JSON, a missing or mistyped field, a
duplicate id, a gold document missing from `docs/`) is skipped and kept in `EvalSet.problems` with its
line number, unless `strict=True`, which raises it.

    eval_set = load_set(Path("bench/xquad-en"))
    for problem in eval_set.problems: print(problem)      # questions.jsonl:17: ...
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from rag.eval.text import has_cjk
from rag_core.errors import InvalidInputError
from rag_models.llm.base import ChatMessage

QUESTIONS = "questions.jsonl"
DOCS = "docs"
SPLITS = ("all", "tune", "check")


class SetError(InvalidInputError):
    """A problem in a benchmark set, located by file and (when it is about one line) line number."""

    def __init__(self, path: Path, message: str, *, line: int | None = None, hint: str = "") -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}", hint=hint or "see docs/eval.md for the set layout")
        self.path = path
        self.line = line
        self.detail = message


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    gold_docs: tuple[str, ...]
    lang: str
    long_answer: str | None = None
    gold_passages: tuple[str, ...] = ()
    line: int = 0
    history: tuple[ChatMessage, ...] = ()  # conversational sets: the turns before the question
    standalone: str | None = None  # the set's gold rewrite of a follow-up (meta.standalone)
    topic_shift: bool = False  # a new topic asked after the history (meta.topic_shift)

    @property
    def turn(self) -> str:
        """ "single" (no history), "follow-up" or "topic-shift"."""
        if not self.history:
            return "single"
        return "topic-shift" if self.topic_shift else "follow-up"


@dataclass(slots=True)
class EvalSet:
    name: str
    root: Path
    questions: list[Question]
    problems: list[SetError] = field(default_factory=list)

    @property
    def docs_dir(self) -> Path:
        return self.root / DOCS

    @property
    def questions_file(self) -> Path:
        return self.root / QUESTIONS


def split_of(question_id: str) -> str:
    """The fixed half a question belongs to, by a hash of its id: "tune" (measure while changing the
    pipeline) or "check" (report; never looked at while tuning)."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return "tune" if digest[0] % 2 == 0 else "check"


def select_split(questions: list[Question], split: str) -> list[Question]:
    if split not in SPLITS:
        raise InvalidInputError(f"unknown split {split!r}", hint=f"choose one of {', '.join(SPLITS)}")
    return questions if split == "all" else [q for q in questions if split_of(q.id) == split]


def _strings(obj: dict[str, Any], key: str, *, required: bool = False) -> tuple[str, ...]:
    if key not in obj or obj[key] is None:
        if required:
            raise ValueError(f"missing field {key!r}")
        return ()
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"field {key!r} must be a list of strings, got {json.dumps(value)[:80]}")
    return tuple(value)


def _string(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and key == "id":
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"field {key!r} must be a non-empty string" if key in obj else f"missing field {key!r}"
        )
    return value.strip()


def parse_question(obj: Any, docs_dir: Path, line: int) -> Question:
    """One line's object as a `Question`; raises ValueError with a readable message."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    qid, text = _string(obj, "id"), _string(obj, "question")
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError("field 'answerable' must be true or false")
    gold = _strings(obj, "gold_docs", required=answerable)
    if answerable and not gold:
        raise ValueError("an answerable question needs at least one entry in 'gold_docs'")
    for doc in gold:
        relative = PurePosixPath(doc)
        if relative.is_absolute() or ".." in relative.parts or not (docs_dir / relative).is_file():
            raise ValueError(f"gold doc {doc!r} is not a file under {docs_dir}")
    lang = obj.get("lang") or ("zh" if has_cjk(text) else "en")
    if not isinstance(lang, str):
        raise ValueError("field 'lang' must be a string such as 'en' or 'zh'")
    long_answer = obj.get("long_answer")
    if long_answer is not None and not isinstance(long_answer, str):
        raise ValueError("field 'long_answer' must be a string or null")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError("field 'meta' must be an object")
    standalone = meta.get("standalone")
    if standalone is not None and (not isinstance(standalone, str) or not standalone.strip()):
        raise ValueError("field 'meta.standalone' must be a non-empty string")
    return Question(
        id=qid,
        question=text,
        answers=_strings(obj, "answers"),
        answerable=answerable,
        gold_docs=gold,
        lang=lang,
        long_answer=long_answer,
        gold_passages=_strings(obj, "gold_passages"),
        line=line,
        history=_history(obj.get("history")),
        standalone=standalone.strip() if standalone else None,
        topic_shift=meta.get("topic_shift") is True,
    )


def _history(value: Any) -> tuple[ChatMessage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("field 'history' must be a list of {role, content} objects")
    turns: list[ChatMessage] = []
    for turn in value:
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise ValueError(
                'each turn of \'history\' must be {"role": "user" | "assistant", "content": "..."}'
            )
        turns.append(ChatMessage(turn["role"], turn["content"]))
    return tuple(turns)


def _check_layout(root: Path) -> None:
    if not root.is_dir():
        raise SetError(root, "no such folder", hint="pass the folder that holds docs/ and questions.jsonl")
    docs = root / DOCS
    if not docs.is_dir():
        raise SetError(docs, "the set has no docs/ folder", hint="put the files to ingest under docs/")
    if not any(p.is_file() for p in docs.rglob("*")):
        raise SetError(docs, "docs/ holds no files", hint="put the files to ingest under docs/")
    if not (root / QUESTIONS).is_file():
        raise SetError(
            root / QUESTIONS, "the set has no questions file", hint="write one JSON object per line"
        )


def load_set(root: Path, *, strict: bool = False) -> EvalSet:
    root = Path(root).expanduser().resolve()
    _check_layout(root)
    path = root / QUESTIONS
    eval_set = EvalSet(root.name, root, [])
    seen: dict[str, int] = {}
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise SetError(
                    path, f"not UTF-8 ({exc.reason})", line=number, hint="save the file as UTF-8"
                ) from None
            if not line.strip():
                continue
            try:
                question = parse_question(json.loads(line), eval_set.docs_dir, number)
                if question.id in seen:
                    raise ValueError(f"duplicate id {question.id!r} (first on line {seen[question.id]})")
            except json.JSONDecodeError as exc:
                problem = SetError(path, f"invalid JSON ({exc.msg}, column {exc.colno})", line=number)
            except ValueError as exc:
                problem = SetError(path, str(exc), line=number)
            else:
                seen[question.id] = number
                eval_set.questions.append(question)
                continue
            if strict:
                raise problem
            eval_set.problems.append(problem)
    if not eval_set.questions:
        first = f"; first problem: {eval_set.problems[0].message}" if eval_set.problems else ""
        raise SetError(
            path, f"no usable question{first}", hint="write one JSON object per line (docs/eval.md)"
        )
    return eval_set
