"""Contract tests of the two-level index, written once and run against every vector-store mode
(embedded Chroma in a temp dir; a real `chroma run` server, marked integration)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pytest

from rag_core.errors import ConfigError, InvalidInputError, NotFoundError
from rag_models.embeddings import SentenceTransformerEmbedder
from tests.helpers import BUNDLED_EMBEDDER, make_write, new_version
from vectorstore.chroma_store import ChromaStore
from vectorstore.index import TwoLevelIndex, Vectorize, same_embedder
from vectorstore.records import CollectionInfo, DocumentWrite, stored_fields

CHROMA_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")

CATS = [
    "Cats sleep up to sixteen hours a day and groom themselves with their rough tongues.",
    "A domestic cat purrs when content and kneads soft blankets with its paws.",
]
ROCKETS = [
    "The rocket launch was delayed because of strong winds over the launch pad.",
    "Liquid oxygen and kerosene fuel the first stage of the orbital rocket.",
]
TAXES = [
    "The quarterly budget review found that travel spending exceeded the plan by twelve percent.",
    "Income tax returns must be filed before the end of April each year.",
]
ZH_LEAVE = ["员工每年享有十五天带薪年假，需提前两周向直属主管申请。", "病假需要医院开具的证明。"]
ZH_ROBOT = ["扫地机器人充满电后可以连续工作九十分钟。", "每次清扫结束后请清空尘盒。"]


def open_collection(index: TwoLevelIndex, embedder: SentenceTransformerEmbedder, name: str) -> CollectionInfo:
    return index.open_collection(name, embedder=embedder.model_name, dimension=lambda: embedder.dimension)


def put(
    index: TwoLevelIndex, embedder: SentenceTransformerEmbedder, info: CollectionInfo, *writes: DocumentWrite
):
    summaries = embedder.embed_array([w.summary.text for w in writes])
    chunks = embedder.embed_array([c.text for w in writes for c in w.chunks])
    index.write(info, list(writes), summaries, chunks)


def qvec(embedder: SentenceTransformerEmbedder, text: str) -> list[float]:
    return embedder.embed_query(text)


def chroma_counts(index: TwoLevelIndex, info: CollectionInfo) -> tuple[int, int]:
    return index.chroma.count(info.dense_key, "summaries"), index.chroma.count(info.dense_key, "chunks")


def everything(index: TwoLevelIndex, embedder, info: CollectionInfo, query: str) -> set[str]:
    """Every chunk/summary id any search returns for `query`."""
    vec = qvec(embedder, query)
    ids = {h.chunk.id for h in index.search_chunks(info, vec, k=50)}
    ids |= {h.summary.id for h in index.search_summaries(info, vec, k=50)}
    ids |= {h.chunk.id for h in index.lexical_chunks(info, query, k=50)}
    ids |= {h.summary.id for h in index.lexical_summaries(info, query, k=50)}
    return ids


def test_write_then_search_summaries_and_chunks(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "library")
    cats = make_write(
        info, "cats", CATS, title="All about cats", file_type="md", page=3, section="Pets > Cats"
    )
    rockets = make_write(info, "rockets", ROCKETS, title="Rocket science")
    taxes = make_write(info, "taxes", TAXES, title="Finance notes", file_type="pdf")
    put(index, embedder, info, cats, rockets, taxes)

    assert chroma_counts(index, info) == (3, 6)
    assert index.catalog.counts(info.name) == {"documents": 3, "chunks": 6}
    assert index.catalog.intents(info.name) == []

    summaries = index.search_summaries(info, qvec(embedder, "rocket launch and fuel"), k=2)
    assert summaries[0].summary.doc_id == "rockets"
    assert summaries[0].summary.id == rockets.summary.id
    assert summaries[0].summary.title == "Rocket science"
    assert summaries[0].summary.strategy == "extractive"
    assert summaries[0].summary.chunk_count == 2
    assert summaries[0].score > summaries[1].score

    # the second level: chunks of the selected documents only, whatever the query says
    hits = index.search_chunks(
        info, qvec(embedder, "rocket launch and fuel"), k=10, doc_ids=["taxes", "cats"]
    )
    assert {h.chunk.doc_id for h in hits} == {"taxes", "cats"}
    assert len(hits) == 4
    assert index.search_chunks(info, qvec(embedder, "rocket"), k=10, doc_ids=[]) == []
    assert (
        index.search_summaries(info, qvec(embedder, "rocket"), k=5, doc_ids=["cats"])[0].summary.doc_id
        == "cats"
    )

    # a chunk comes back with every field it was written with
    top = index.search_chunks(info, qvec(embedder, "cats purr and knead blankets"), k=1)[0]
    written = next(c for c in cats.chunks if c.id == top.chunk.id)
    assert top.chunk == written
    assert top.scores == {"dense": pytest.approx(top.score)}
    assert 0.3 < top.score <= 1.0001
    assert index.search_chunks(info, qvec(embedder, "income tax"), k=1)[0].chunk.page is None


def test_lexical_search_english(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "lexical-en")
    put(
        index,
        embedder,
        info,
        make_write(info, "cats", CATS),
        make_write(info, "rockets", ROCKETS),
        make_write(info, "taxes", TAXES, title="Finance notes"),
    )
    hits = index.lexical_chunks(info, "quarterly budget review", k=5)
    assert hits[0].chunk.id == "taxes:" + hits[0].chunk.version + ":0"
    assert hits[0].chunk.text == TAXES[0]
    assert hits[0].scores == {"lexical": pytest.approx(hits[0].score)}
    assert all(h.chunk.doc_id == "taxes" for h in hits)
    # stemming: "launches" matches "launch"
    assert {h.chunk.doc_id for h in index.lexical_chunks(info, "launches", k=5)} == {"rockets"}
    assert index.lexical_chunks(info, "quarterly budget", k=5, doc_ids=["cats"]) == []
    assert index.lexical_chunks(info, "quarterly budget", k=5, doc_ids=[]) == []
    assert index.lexical_chunks(info, "the of and", k=5) == []  # only stop words
    assert index.lexical_chunks(info, "xylophone", k=5) == []
    summaries = index.lexical_summaries(info, "finance", k=3)
    assert [s.summary.doc_id for s in summaries] == ["taxes"]


def test_lexical_search_chinese(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "lexical-zh")
    put(
        index,
        embedder,
        info,
        make_write(info, "leave", ZH_LEAVE, title="年假制度"),
        make_write(info, "robot", ZH_ROBOT, title="扫地机器人说明"),
        make_write(info, "cats", CATS),
    )
    hits = index.lexical_chunks(info, "带薪年假有几天？", k=5)
    assert hits and hits[0].chunk.doc_id == "leave"
    assert hits[0].chunk.text == ZH_LEAVE[0]
    assert {h.chunk.doc_id for h in index.lexical_chunks(info, "机器人能工作多久", k=5)} == {"robot"}
    assert {h.chunk.doc_id for h in index.lexical_chunks(info, "尘盒", k=5)} == {"robot"}
    assert [s.summary.doc_id for s in index.lexical_summaries(info, "年假", k=3)] == ["leave"]
    assert index.lexical_chunks(info, "年假", k=5, doc_ids=["robot"]) == []


def test_rewrite_replaces_the_old_generation(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "rewrite")
    old = make_write(info, "doc", ["Zebras graze on the savanna near the watering hole.", *CATS])
    other = make_write(info, "other", ROCKETS)
    put(index, embedder, info, old, other)
    assert chroma_counts(index, info) == (2, 5)

    new = make_write(info, "doc", ["Penguins huddle together through the antarctic winter."])
    assert new.version != old.version
    put(index, embedder, info, new)

    old_ids = {c.id for c in old.chunks} | {old.summary.id}
    for query in ("zebras graze on the savanna", "cats sleep and purr", "penguins in winter"):
        assert not everything(index, embedder, info, query) & old_ids
    assert index.lexical_chunks(info, "zebras savanna", k=5) == []
    hits = index.search_chunks(info, qvec(embedder, "zebras graze on the savanna"), k=10)
    assert {h.chunk.version for h in hits if h.chunk.doc_id == "doc"} == {new.version}
    assert [h.chunk.id for h in index.lexical_chunks(info, "penguins", k=5)] == [new.chunks[0].id]

    # counts are exact: the old generation is gone from Chroma, the catalog and the BM25 index
    assert chroma_counts(index, info) == (2, 3)
    assert index.catalog.counts(info.name) == {"documents": 2, "chunks": 3}
    assert [c.id for c in index.catalog.chunks_of(info.name, "doc")] == [new.chunks[0].id]
    assert index.catalog.document(info.name, "doc").version == new.version
    assert index.catalog.intents(info.name) == []


def test_delete_documents(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "delete")
    cats = make_write(info, "cats", CATS, title="Cats")
    rockets = make_write(info, "rockets", ROCKETS, title="Rockets")
    put(index, embedder, info, cats, rockets)

    assert index.delete_documents(info, ["cats"]) == 1
    cat_ids = {c.id for c in cats.chunks} | {cats.summary.id}
    for query in ("cats sleep and purr", "Cats", "kneads blankets", "rocket"):
        assert not everything(index, embedder, info, query) & cat_ids
    assert index.lexical_chunks(info, "purrs kneads", k=5) == []
    assert index.lexical_summaries(info, "cats", k=5) == []
    assert index.search_chunks(info, qvec(embedder, "cats"), k=5, doc_ids=["cats"]) == []
    assert index.catalog.document(info.name, "cats") is None
    assert chroma_counts(index, info) == (1, 2)
    assert index.catalog.counts(info.name) == {"documents": 1, "chunks": 2}
    assert index.catalog.intents(info.name) == []
    # the other document is untouched; deleting an unknown one is a no-op
    assert index.search_chunks(info, qvec(embedder, "rocket launch"), k=1)[0].chunk.doc_id == "rockets"
    assert index.delete_documents(info, ["cats", "never-there"]) == 0


def test_recover_removes_records_of_an_interrupted_write(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "recover")
    live = make_write(info, "doc", CATS)
    put(index, embedder, info, live)
    assert chroma_counts(index, info) == (1, 2)

    # a crash after step 2 of the write protocol: intents recorded, vectors upserted, nothing published
    replacement = make_write(info, "doc", ["Dogs fetch sticks and bark at the mail carrier."])
    newcomer = make_write(info, "new", ROCKETS)
    crashed = [replacement, newcomer]
    index.catalog.add_intents(info.name, [(w.doc_id, w.version) for w in crashed])
    summaries = [w.summary for w in crashed]
    chunks = [c for w in crashed for c in w.chunks]
    index.chroma.upsert(
        info.key,
        "summaries",
        [s.id for s in summaries],
        embedder.embed_array([s.text for s in summaries]),
        [s.text for s in summaries],
        [stored_fields(s) for s in summaries],
    )
    index.chroma.upsert(
        info.key,
        "chunks",
        [c.id for c in chunks],
        embedder.embed_array([c.text for c in chunks]),
        [c.text for c in chunks],
        [stored_fields(c) for c in chunks],
    )
    assert chroma_counts(index, info) == (3, 5)
    # readers never see the unpublished records, even before recovery
    crashed_ids = {c.id for c in chunks} | {s.id for s in summaries}
    assert not everything(index, embedder, info, "dogs fetch sticks") & crashed_ids
    assert not everything(index, embedder, info, "rocket launch") & crashed_ids

    assert index.recover(info) == 2
    assert chroma_counts(index, info) == (1, 2)
    assert index.catalog.intents(info.name) == []
    assert index.catalog.document(info.name, "doc").version == live.version
    assert index.catalog.document(info.name, "new") is None
    hits = index.search_chunks(info, qvec(embedder, "cats sleep"), k=5)
    assert {h.chunk.id for h in hits} == {c.id for c in live.chunks}
    assert index.recover(info) == 0


def test_live_filter_hides_records_of_other_generations(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "live-filter")
    live = make_write(info, "doc", CATS, title="Cats")
    put(index, embedder, info, live)
    # records with a non-live generation of a live doc, and of an unknown doc, that match the query best
    query = "A stray generation about volcanoes erupting lava."
    stale = make_write(info, "doc", [query], version=new_version("stale"), summary=query)
    ghost = make_write(info, "ghost", [query], summary=query)
    vector = embedder.embed_array([query])
    for w in (stale, ghost):
        index.chroma.upsert(
            info.key, "chunks", [w.chunks[0].id], vector, [query], [stored_fields(w.chunks[0])]
        )
        index.chroma.upsert(
            info.key, "summaries", [w.summary.id], vector, [query], [stored_fields(w.summary)]
        )
    assert chroma_counts(index, info) == (3, 4)

    qv = qvec(embedder, query)
    chunk_hits = index.search_chunks(info, qv, k=5)
    assert {h.chunk.id for h in chunk_hits} == {c.id for c in live.chunks}
    assert {h.chunk.version for h in chunk_hits} == {live.version}
    assert index.search_chunks(info, qv, k=5, doc_ids=["ghost"]) == []
    assert {h.chunk.id for h in index.search_chunks(info, qv, k=5, doc_ids=["doc"])} == {
        c.id for c in live.chunks
    }
    assert [h.summary.id for h in index.search_summaries(info, qv, k=5)] == [live.summary.id]


def test_collection_names_in_any_script(index: TwoLevelIndex, embedder) -> None:
    manual = open_collection(index, embedder, "产品手册")
    handbook = open_collection(index, embedder, "员工手册")
    mixed = open_collection(index, embedder, "Team Docs 2024 (final)")
    assert manual.name == "产品手册"
    assert len({manual.key, handbook.key, mixed.key}) == 3
    for info in (manual, handbook, mixed):
        assert CHROMA_NAME.match(f"{info.key}.summaries") and CHROMA_NAME.match(f"{info.key}.chunks")
        assert re.fullmatch(r"[a-z0-9_]+", info.key)  # also a plain SQLite identifier
    # the same name (after trimming and NFC normalisation) opens the same collection
    decomposed = unicodedata.normalize("NFD", "café")
    assert open_collection(index, embedder, decomposed).key == open_collection(index, embedder, " café ").key
    assert open_collection(index, embedder, "  产品手册 ") == manual

    put(index, embedder, manual, make_write(manual, "m", ZH_ROBOT))
    put(index, embedder, handbook, make_write(handbook, "h", ZH_LEAVE))
    assert [h.chunk.doc_id for h in index.lexical_chunks(manual, "机器人 年假", k=5)] == ["m"]
    assert [h.chunk.doc_id for h in index.lexical_chunks(handbook, "机器人 年假", k=5)] == ["h"]
    assert {h.chunk.collection for h in index.search_chunks(handbook, qvec(embedder, "年假"), k=5)} == {
        "员工手册"
    }
    assert {c.name for c in index.catalog.collections()} >= {"产品手册", "员工手册", "Team Docs 2024 (final)"}
    assert index.collection("产品手册") == manual


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "a/b", "a\\b", "tab\there", "nul\x00byte", "bell\x07"])
def test_invalid_collection_names(index: TwoLevelIndex, embedder, name: str) -> None:
    with pytest.raises(InvalidInputError):
        open_collection(index, embedder, name)
    assert index.catalog.collections() == []


def test_unknown_collection_and_delete_collection(index: TwoLevelIndex, embedder) -> None:
    with pytest.raises(NotFoundError):
        index.collection("nope")
    info = open_collection(index, embedder, "to-drop")
    put(index, embedder, info, make_write(info, "cats", CATS))
    index.delete_collection("to-drop")
    with pytest.raises(NotFoundError):
        index.collection("to-drop")
    assert index.catalog.counts("to-drop") == {"documents": 0, "chunks": 0}
    again = open_collection(index, embedder, "to-drop")
    assert chroma_counts(index, again) == (0, 0)
    assert index.lexical_chunks(again, "cats", k=5) == []


def test_a_collection_of_another_embedder_is_opened_for_writers_and_refused_to_readers(
    index: TwoLevelIndex, embedder
) -> None:
    info = open_collection(index, embedder, "embedded-by-minilm")
    assert info.embedder == BUNDLED_EMBEDDER and info.dimension == 384

    def must_not_load() -> int:
        raise AssertionError("reopening a collection must not ask for the dimension")

    assert index.open_collection(info.name, embedder=BUNDLED_EMBEDDER, dimension=must_not_load) == info
    assert index.open_collection(info.name, embedder="BAAI/bge-m3", dimension=must_not_load) == info
    assert same_embedder(info, BUNDLED_EMBEDDER) == info
    with pytest.raises(ConfigError) as error:
        same_embedder(info, "BAAI/bge-m3")
    assert "BAAI/bge-m3" in str(error.value) and BUNDLED_EMBEDDER in str(error.value)
    assert "ingest into it again" in error.value.hint


def _halves(embedder: SentenceTransformerEmbedder) -> Vectorize:
    """Another embedding space of another dimension: the first half of each vector, normalised."""

    def vectorize(summaries, chunks):
        def half(texts: list[str]) -> list[np.ndarray]:
            vectors = embedder.embed_array(texts)[:, :192] if texts else np.zeros((0, 192))
            return list(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))

        return half([s.text for s in summaries]), half([c.text for cs in chunks for c in cs])

    return vectorize


def _query_half(embedder: SentenceTransformerEmbedder, text: str) -> list[float]:
    vector = np.asarray(embedder.embed_query(text))[:192]
    return list(vector / np.linalg.norm(vector))


def _chroma_names(index: TwoLevelIndex) -> set[str]:
    return {getattr(c, "name", c) for c in index.chroma.client().list_collections()}


def test_rebuild_re_embeds_every_live_document_and_switches_at_once(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "switching")
    cats, rockets = (
        make_write(info, "cats", CATS),
        make_write(info, "rockets", ROCKETS),
    )
    put(index, embedder, info, cats, rockets)
    index.delete_documents(info, ["rockets"])
    put(index, embedder, info, make_write(info, "taxes", TAXES))
    old = info.dense_key

    calls = 0

    def crashing(summaries, chunks):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("killed mid-rebuild")
        return _halves(embedder)(summaries, chunks)

    with pytest.raises(RuntimeError):
        index.rebuild(info, embedder="half-minilm", dimension=192, vectorize=crashing, batch_chunks=1)
    left = index.collection(info.name)
    assert left.embedder == BUNDLED_EMBEDDER and left.dense_key == old and left.rebuilding
    hits = index.search_chunks(left, qvec(embedder, "Why does a cat purr?"), k=2)  # the old vectors serve
    assert hits and hits[0].chunk.doc_id == "cats"

    rebuilt = index.rebuild(
        left, embedder="half-minilm", dimension=192, vectorize=_halves(embedder), batch_chunks=1
    )
    assert (rebuilt.embedder, rebuilt.dimension, rebuilt.rebuilding) == ("half-minilm", 192, "")
    assert rebuilt.dense_key not in (old, left.rebuilding) and CHROMA_NAME.match(
        f"{rebuilt.dense_key}.chunks"
    )
    names = _chroma_names(index)
    assert f"{rebuilt.dense_key}.chunks" in names
    assert (
        not {f"{key}.{level}" for key in (old, left.rebuilding) for level in ("chunks", "summaries")} & names
    )
    assert chroma_counts(index, rebuilt) == (2, len(CATS) + len(TAXES))  # live documents only
    for question, doc in (("Why does a cat purr?", "cats"), ("When are tax returns due?", "taxes")):
        assert index.search_chunks(rebuilt, _query_half(embedder, question), k=1)[0].chunk.doc_id == doc
        assert index.search_summaries(rebuilt, _query_half(embedder, question), k=1)[0].summary.doc_id == doc
    assert index.lexical_chunks(rebuilt, "purrs", k=1)[0].chunk.doc_id == "cats"
    with pytest.raises(ConfigError):
        same_embedder(rebuilt, BUNDLED_EMBEDDER)

    index.delete_collection(rebuilt.name)
    assert f"{rebuilt.dense_key}.chunks" not in _chroma_names(index)


def test_filtered_doc_ids(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "filters")
    t0 = 1_700_000_000.0
    writes = [
        make_write(
            info, "a", CATS, source="/data/hr/policy.pdf", relpath="hr/policy.pdf", file_type="pdf", mtime=t0
        ),
        make_write(
            info, "b", ROCKETS, source="/data/hr/faq.md", relpath="hr/faq.md", file_type="md", mtime=t0 + 10
        ),
        make_write(
            info, "c", TAXES, source="/data/eng/x.txt", relpath="eng/x.txt", file_type="txt", mtime=t0 + 20
        ),
    ]
    put(index, embedder, info, *writes)
    index.catalog.record_failure(
        info.name,
        doc_id="d",
        source="/data/hr/broken.pdf",
        relpath="hr/broken.pdf",
        file_type="pdf",
        error="x",
    )

    def ids(**kw) -> set[str]:
        return set(index.catalog.filtered_doc_ids(info.name, **kw))

    assert ids() == {"a", "b", "c"}  # a failed document with no live version is never a candidate
    assert ids(source_prefix="/data/hr/") == {"a", "b"}
    assert ids(source_prefix="hr/") == {"a", "b"}  # relative to the ingested folder
    assert ids(source_prefix="/data/eng") == {"c"}
    assert ids(source_prefix="/elsewhere") == set()
    assert ids(file_types=["pdf"]) == {"a"}
    assert ids(file_types=[".PDF", "md"]) == {"a", "b"}
    assert ids(modified_after=t0 + 5) == {"b", "c"}
    assert ids(modified_before=t0 + 10) == {"a", "b"}
    assert ids(modified_after=t0 + 5, modified_before=t0 + 15) == {"b"}
    assert ids(source_prefix="/data/hr", file_types=["md"], modified_after=t0) == {"b"}
    # the filter feeds the second level: chunks restricted to the filtered documents
    hits = index.search_chunks(
        info, qvec(embedder, "rocket"), k=10, doc_ids=sorted(ids(file_types=["pdf", "txt"]))
    )
    assert {h.chunk.doc_id for h in hits} == {"a", "c"}


def test_records_without_our_metadata_are_ignored(index: TwoLevelIndex, embedder) -> None:
    """A record another tool put into our Chroma collection (no doc_id/version) is never a result."""
    info = open_collection(index, embedder, "foreign")
    live = make_write(info, "doc", CATS)
    put(index, embedder, info, live)
    query = "Volcanoes erupt molten lava."
    vector = [float(x) for x in embedder.embed_array([query])[0]]
    for level in ("chunks", "summaries"):
        raw = index.chroma.client().get_collection(f"{info.key}.{level}")
        raw.add(ids=[f"foreign-{level}"], embeddings=[vector], documents=[query])
    qv = qvec(embedder, query)
    assert {h.chunk.id for h in index.search_chunks(info, qv, k=5)} == {c.id for c in live.chunks}
    assert [h.summary.id for h in index.search_summaries(info, qv, k=5)] == [live.summary.id]


class InterleavingChroma(ChromaStore):
    """The real store; after the next query returns, runs `then` (another writer's whole write)."""

    then: Callable[[], None] | None = None

    def query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        hits = super().query(*args, **kwargs)
        then, self.then = self.then, None
        if then is not None:
            then()
        return hits


def test_a_reader_racing_a_rewrite_sees_one_generation(index: TwoLevelIndex, embedder) -> None:
    chroma = InterleavingChroma(url=index.chroma.url, path=index.chroma.path)
    racing = TwoLevelIndex(index.catalog, chroma)
    info = open_collection(racing, embedder, "race")
    put(racing, embedder, info, make_write(info, "doc", CATS))
    rewrite = make_write(info, "doc", ["Cats also chase laser pointers around the living room."])
    chroma.then = lambda: put(racing, embedder, info, rewrite)
    hits = racing.search_chunks(info, qvec(embedder, "cats"), k=5)
    assert hits, "the document was live before and after the write, yet the reader got nothing"
    assert {h.chunk.version for h in hits} == {rewrite.version}


def test_the_change_stamp_moves_with_the_live_documents_only(index: TwoLevelIndex, embedder) -> None:
    info = open_collection(index, embedder, "stamped")
    stamps = [index.catalog.change_stamp(info.name)]
    put(index, embedder, info, make_write(info, "cats", CATS))
    stamps.append(index.catalog.change_stamp(info.name))
    index.catalog.touch(info.name, "cats", size=1, mtime=1.0)
    assert index.catalog.change_stamp(info.name) == stamps[-1]
    put(index, embedder, info, make_write(info, "cats", ROCKETS))
    stamps.append(index.catalog.change_stamp(info.name))
    index.delete_documents(info, ["cats"])
    stamps.append(index.catalog.change_stamp(info.name))
    index.delete_collection(info.name)
    stamps.append(index.catalog.change_stamp(info.name))
    open_collection(index, embedder, "stamped")
    stamps.append(index.catalog.change_stamp(info.name))
    assert len(set(stamps)) == len(stamps), stamps
