"""`rag eval`: benchmark sets, metrics, the runner and its reports (docs/eval.md).

eval_set = load_set(Path("bench/xquad-en"))
record = score(eval_set.questions[0], Outcome(context=[ContextItem("a.txt", "...")]))
summarize([record])["retrieval"]["hit@5"]
"""

from rag.eval.dataset import EvalSet, Question, SetError, load_set
from rag.eval.scoring import ContextItem, Outcome, QuestionRecord, score
from rag.eval.summary import summarize

__all__ = [
    "ContextItem",
    "EvalSet",
    "Outcome",
    "Question",
    "QuestionRecord",
    "SetError",
    "load_set",
    "score",
    "summarize",
]
