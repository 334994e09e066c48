"""Search the knowledge base: hybrid (BM25 + vector, fused by rank) by default.

``KnowledgeBaseSearch.open(root)`` loads the published ANN index (memory-mapped) and the
documents it was built from, once; ``search`` then answers in milliseconds. The vector side
uses the same encoder as the embeddings, so query and chunks live in one space.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from lakehouse_assets.vector_index.ann import IndexManifest, current_build, open_index
from lakehouse_assets.vector_index.bm25 import BM25Index, reciprocal_rank_fusion
from lakehouse_assets.vector_index.chunking import embedding_text
from lakehouse_assets.vector_index.tables import DOCUMENTS, read_frame, table_uri

SearchMode = Literal["hybrid", "vector", "keyword"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "vector", "keyword")
# Each side proposes this many candidates for fusion (cheap; improves the fused top k).
CANDIDATES = 50


@dataclass(frozen=True)
class SearchHit:
    """One retrieved chunk; ``score`` is the fused (or single-method) score, higher is better."""

    rank: int
    chunk_id: str
    document_id: str
    title: str
    section: str
    category: str
    text: str
    score: float
    vector_similarity: float | None
    keyword_score: float | None


class IndexNotBuiltError(RuntimeError):
    """No published index under the lakehouse root yet."""


class KnowledgeBaseSearch:
    """A loaded index + documents, ready to answer queries."""

    def __init__(
        self,
        index,
        manifest: IndexManifest,
        chunks: pd.DataFrame,
        encode: Callable[[list[str]], np.ndarray],
    ) -> None:
        self.index = index
        self.manifest = manifest
        # Row i of ``chunks`` is key i of the index (the manifest's order).
        self.chunks = chunks.set_index("chunk_id").loc[manifest.chunk_ids].reset_index()
        self.encode = encode
        self.keywords = BM25Index(
            [
                embedding_text(r.title, r.section, r.text)
                for r in self.chunks.itertuples(index=False)
            ]
        )

    @classmethod
    def open(
        cls,
        root: str,
        index_root: Path,
        encode: Callable[[list[str]], np.ndarray] | None = None,
    ) -> KnowledgeBaseSearch:
        """Open the published index under ``index_root`` and the documents table under root."""
        build = current_build(index_root)
        if build is None:
            raise IndexNotBuiltError(
                f"no vector index under {index_root}: materialize the vector_index assets "
                "(lakehouse materialize) first"
            )
        manifest = IndexManifest.from_json((build / "manifest.json").read_text())
        chunks = read_frame(table_uri(root, DOCUMENTS))
        if chunks is None:
            raise IndexNotBuiltError(f"no documents table under {root}")
        if encode is None:
            from lakehouse_assets.vector_index.encoder import shared_encoder

            encode = shared_encoder().encode
        return cls(open_index(build), manifest, chunks, encode)

    def vector_ranking(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """``(position, cosine similarity)`` of the ``k`` nearest chunks (ANN)."""
        k = min(k, len(self.chunks))
        if k == 0:
            return []
        matches = self.index.search(query_vector, k)
        return [
            (int(key), 1.0 - float(d))
            for key, d in zip(matches.keys, matches.distances, strict=True)
        ]

    def search(self, query: str, k: int = 5, mode: SearchMode = "hybrid") -> list[SearchHit]:
        """The top ``k`` chunks for ``query``."""
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; use one of {SEARCH_MODES}")
        if not query.strip():
            raise ValueError("empty query")
        vector = (
            dict(self.vector_ranking(self.encode([query])[0], CANDIDATES))
            if mode != "keyword"
            else {}
        )
        keyword = dict(self.keywords.top(query, CANDIDATES)) if mode != "vector" else {}
        if mode == "vector":
            scored = vector
        elif mode == "keyword":
            scored = keyword
        else:
            scored = reciprocal_rank_fusion([list(vector), list(keyword)])
        best = sorted(scored, key=lambda i: (-scored[i], i))[:k]
        return [self._hit(rank, i, scored[i], vector, keyword) for rank, i in enumerate(best, 1)]

    def _hit(
        self, rank: int, position: int, score: float, vector: dict, keyword: dict
    ) -> SearchHit:
        row = self.chunks.iloc[position]
        return SearchHit(
            rank=rank,
            chunk_id=row["chunk_id"],
            document_id=row["document_id"],
            title=row["title"],
            section=row["section"],
            category=row["category"],
            text=row["text"],
            score=round(float(score), 6),
            vector_similarity=round(vector[position], 4) if position in vector else None,
            keyword_score=round(keyword[position], 4) if position in keyword else None,
        )
