"""Okapi BM25 keyword scoring over the chunks, and reciprocal rank fusion. Pure Python + numpy.

Keyword search catches what embeddings blur: identifiers (``replay_dead_letters``,
``LAKEHOUSE_ROOT``, ``Brand#13``), error codes and rare words. The index is a sparse
term -> (chunk, term frequency) map built in memory from the documents table; a few thousand
chunks take milliseconds.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

# Identifiers keep their inner _ # . - (table names, brands, variables); case is folded.
_TOKEN = re.compile(r"[a-z0-9]+(?:[_#.\-][a-z0-9]+)*")
_STOPWORDS_TEXT = (
    "a an and are as at be by can do does for from how i if in is it its of on or our "
    "that the their there this to was we what when where which who why will with you"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split(" "))


def tokenize(text: str) -> list[str]:
    """Lower-cased terms without stopwords; compound identifiers also yield their parts."""
    terms = []
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS:
            continue
        terms.append(token)
        parts = re.split(r"[_#.\-]", token)
        if len(parts) > 1:
            terms.extend(p for p in parts if p and p not in STOPWORDS)
    return terms


class BM25Index:
    """BM25 (k1 = 1.5, b = 0.75) over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        tokenized = [tokenize(t) for t in texts]
        self.lengths = np.array([len(t) for t in tokenized], dtype=float)
        self.average_length = float(self.lengths.mean()) if len(texts) else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc, terms in enumerate(tokenized):
            for term, count in Counter(terms).items():
                self.postings[term].append((doc, count))
        n = len(texts)
        self.idf = {
            term: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self.postings.items()
        }

    def __len__(self) -> int:
        return len(self.lengths)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query`` (0 where no term matches)."""
        scores = np.zeros(len(self.lengths))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.average_length, 1e-9))
        for term in set(tokenize(query)):
            for doc, tf in self.postings.get(term, ()):
                scores[doc] += self.idf[term] * tf * (self.k1 + 1) / (tf + norm[doc])
        return scores

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best ``(position, score)`` pairs with a positive score, best first."""
        scores = self.scores(query)
        candidates = np.flatnonzero(scores > 0)
        best = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [(int(i), float(scores[i])) for i in best]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """RRF: each ranking adds 1 / (k + rank) per item; scores are comparable across lists.

    Fusing ranks (not raw scores) avoids calibrating BM25 scores against cosine similarities,
    which live on unrelated scales.
    """
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] += 1.0 / (k + rank)
    return dict(fused)
