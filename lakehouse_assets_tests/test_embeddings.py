"""The pieces of the knowledge base that need no Spark: encoder, chunking, BM25, planning."""

from __future__ import annotations

import datetime as dt
import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pytest

from lakehouse_assets.vector_index.bm25 import BM25Index, reciprocal_rank_fusion, tokenize
from lakehouse_assets.vector_index.chunking import (
    SourceDocument,
    chunk_document,
    markdown_sections,
    split_text,
)
from lakehouse_assets.vector_index.embeddings import embed_documents, plan_embeddings
from lakehouse_assets.vector_index.encoder import DIMENSIONS, shared_encoder

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text())


def test_the_numpy_encoder_reproduces_sentence_transformers():
    """Reference vectors were recorded once from sentence-transformers (see the fixture)."""
    vectors = shared_encoder().encode(REFERENCE["texts"])
    expected = np.array(REFERENCE["embeddings"], dtype=np.float32)
    assert vectors.shape == (len(REFERENCE["texts"]), DIMENSIONS)
    assert np.abs(vectors - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching and order do not change a text's vector.
    reversed_vectors = shared_encoder().encode(REFERENCE["texts"][::-1], batch_size=2)
    assert np.abs(reversed_vectors[::-1] - vectors).max() < 1e-5


def test_similar_meaning_is_closer_than_unrelated_text():
    question, answer, unrelated = shared_encoder().encode(
        [
            "How do I restore a gold table to an earlier version?",
            "RESTORE TABLE rolls a Delta table back to a previous version.",
            "A cat sleeps on the mat in the afternoon sun.",
        ]
    )
    assert question @ answer > question @ unrelated + 0.3


def test_chunks_respect_sections_size_and_overlap():
    body = " ".join(f"Sentence number {i} says something about tables." for i in range(60))
    text = f"# Guide\n\nIntro paragraph.\n\n## First\n\n{body}\n\n## Second\n\nShort one.\n"
    chunks = chunk_document(SourceDocument("d", "Guide", "guide", "d", text), 300, 60)
    assert {c.section for c in chunks} == {"Guide", "First", "Second"}
    first = [c for c in chunks if c.section == "First"]
    assert len(first) > 3 and all(len(c.text) <= 300 + 60 for c in first)
    for previous, current in pairwise(first):
        # Each chunk starts with the last (up to 60) characters of the one before it.
        assert any(current.text.startswith(previous.text[-n:]) for n in range(20, 61))
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert chunks[-1].embedding_text == "Guide > Second\nShort one."


def test_headings_inside_code_blocks_do_not_split_sections():
    text = "# T\n\n```bash\n# not a heading\necho hi\n```\n"
    assert [title for title, _ in markdown_sections(text, "T")] == ["T"]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, -1)])
def test_bad_chunk_settings_are_refused(size, overlap):
    with pytest.raises(ValueError, match="chunk"):
        split_text("some text", size, overlap)


def test_bm25_ranks_exact_identifiers_and_rare_terms_first():
    texts = [
        "Run the replay_dead_letters job after fixing the parser.",
        "Dead letters are records that could not be parsed.",
        "Gold tables are restored with the restore_table job.",
    ]
    index = BM25Index(texts)
    assert index.top("replay_dead_letters", 3)[0][0] == 0
    assert index.top("restore", 3)[0][0] == 2
    assert index.top("the of and", 3) == []  # stopwords only
    assert "replay" in tokenize("replay_dead_letters") and "brand#13" in tokenize("Brand#13")


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]])
    assert max(fused, key=fused.get) == 1  # ranked 1st and 2nd beats 3rd and 1st
    assert fused[4] < fused[2] or fused[4] == pytest.approx(1 / 63)


def test_only_new_changed_or_other_model_chunks_are_planned():
    documents = pd.DataFrame(
        {
            "chunk_id": ["a", "b", "c", "d"],
            "document_id": ["x"] * 4,
            "content_hash": ["h1", "h2-new", "h3", "h4"],
            "title": ["t"] * 4,
            "section": ["s"] * 4,
            "text": ["one", "two", "three", "four"],
        }
    )
    existing = pd.DataFrame(
        {
            "chunk_id": ["a", "b", "c", "gone"],
            "document_id": ["x"] * 4,
            "content_hash": ["h1", "h2", "h3", "h9"],
            "model": ["m", "m", "other-model", "m"],
            "embedding": [np.ones(2, dtype=np.float32)] * 4,
            "embedded_at": [pd.Timestamp("2026-01-01", tz="UTC")] * 4,
        }
    )
    plan = plan_embeddings(documents, existing, "m")
    assert sorted(plan.to_embed["chunk_id"]) == ["b", "c", "d"]
    assert list(plan.kept["chunk_id"]) == ["a"]

    def encode(texts):
        return np.full((len(texts), 2), 0.5, dtype=np.float32)

    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    run = embed_documents(documents, existing, encode, "m", now)
    rows = run.rows.to_pandas().set_index("chunk_id")
    assert run.embedded == 3 and run.reused == 1
    assert sorted(rows.index) == ["a", "b", "c", "d"]  # "gone" is not carried over
    assert rows.at["a", "embedded_at"] == pd.Timestamp("2026-01-01", tz="UTC")
    assert rows.at["b", "embedded_at"] == pd.Timestamp(now)


def _documents(chunks: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chunk_id": list(chunks),
            "document_id": ["x"] * len(chunks),
            "content_hash": list(chunks.values()),
            "title": ["t"] * len(chunks),
            "section": ["s"] * len(chunks),
            "text": list(chunks),
        }
    )


def test_a_rejected_embeddings_candidate_leaves_the_table_and_waits_in_staging(tmp_path):
    """Audit before publish on real Delta tables (delta-rs): a candidate with a NaN vector and
    a chunk left out is refused before its MERGE; the table keeps its version, the candidate
    is in the staging table, and the corrected candidate then publishes in one commit."""
    from deltalake import DeltaTable

    from lakehouse_assets.vector_index.audit import (
        audit_embeddings,
        publish_embeddings,
        rejected_embeddings_uri,
    )
    from lakehouse_assets.vector_index.tables import DOCUMENT_EMBEDDINGS, table_uri

    root, now = str(tmp_path), dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    uri = table_uri(root, DOCUMENT_EMBEDDINGS)
    docs = _documents({"a": "h1", "b": "h2"})
    good = embed_documents(docs, None, lambda t: np.eye(len(t), 3, dtype=np.float32), "m", now)
    first = audit_embeddings(docs, good.rows, 3)
    assert first.passed and publish_embeddings(root, uri, good.rows, first) is not None
    version = DeltaTable(uri).version()

    docs = _documents({"a": "h1", "b": "h2-new", "c": "h3"})

    def broken(texts):  # the encoder returned NaN for one text
        vectors = np.ones((len(texts), 3), dtype=np.float32)
        vectors[0, 1] = np.nan
        return vectors

    bad = embed_documents(docs, DeltaTable(uri).to_pandas(), broken, "m", now)
    candidate = bad.rows.filter(pa.compute.not_equal(bad.rows["chunk_id"], "c"))
    audit = audit_embeddings(docs, candidate, 3)
    assert not audit.passed
    assert audit.problems["vectors_not_finite_or_zero"] == 1
    assert audit.problems["chunks_without_embedding"] == 1
    assert publish_embeddings(root, uri, candidate, audit) is None
    assert DeltaTable(uri).version() == version
    assert DeltaTable(uri).to_pandas()["content_hash"].tolist() == ["h1", "h2"]
    staged = DeltaTable(rejected_embeddings_uri(root)).to_pandas()
    assert sorted(staged["chunk_id"]) == ["a", "b"] and "h2-new" in set(staged["content_hash"])

    fixed = embed_documents(
        docs, DeltaTable(uri).to_pandas(), lambda t: np.ones((len(t), 3)), "m", now
    )
    audit = audit_embeddings(docs, fixed.rows, 3)
    assert audit.passed
    assert publish_embeddings(root, uri, fixed.rows, audit).version == version + 1
    assert sorted(DeltaTable(uri).to_pandas()["chunk_id"]) == ["a", "b", "c"]


def test_an_index_build_that_cannot_find_its_own_vectors_is_refused():
    """The index's audit: a build whose keys do not lead back to their rows (here, built over
    the rows in another order) is refused before it replaces the published one."""
    from lakehouse_assets.vector_index.ann import IndexBuildRejected, build_index, verify_build
    from lakehouse_assets.vector_index.synthetic import EmbeddingLikeVectors

    vectors = EmbeddingLikeVectors(seed=7, dimensions=DIMENSIONS).sample(500)
    assert verify_build(build_index(vectors), vectors) == 1.0
    shuffled = vectors[np.random.default_rng(7).permutation(len(vectors))]
    with pytest.raises(IndexBuildRejected, match="published index is unchanged"):
        verify_build(build_index(shuffled), vectors)
    with pytest.raises(IndexBuildRejected, match="holds 499 vectors for 500 rows"):
        verify_build(build_index(vectors[:499]), vectors)
