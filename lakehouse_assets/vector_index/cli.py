"""``lakehouse-search``: ask the knowledge base a question from the terminal.

lakehouse-search "what is our data retention policy?"
lakehouse-search --k 10 --mode vector "how do I replay dead letters?"
lakehouse-search --json "restore a gold table"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.vector_index.search import (
    SEARCH_MODES,
    IndexNotBuiltError,
    KnowledgeBaseSearch,
    SearchHit,
)


def format_hit(hit: SearchHit, width: int = 100) -> str:
    """One hit as a few readable lines: rank, score, where it is from, and its text."""
    detail = []
    if hit.vector_similarity is not None:
        detail.append(f"cosine {hit.vector_similarity:.3f}")
    if hit.keyword_score is not None:
        detail.append(f"bm25 {hit.keyword_score:.2f}")
    heading = f"{hit.rank}. [{hit.score:.4f}] {hit.document_id} > {hit.section}"
    snippet = textwrap.shorten(" ".join(hit.text.split()), width=width * 3, placeholder=" ...")
    body = textwrap.indent(textwrap.fill(snippet, width=width - 3), "   ")
    return f"{heading}  ({', '.join(detail)})\n   {hit.chunk_id} [{hit.category}]\n{body}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse-search", description=__doc__.split("\n")[0])
    parser.add_argument("query", help="The question or keywords.")
    parser.add_argument("--k", type=int, default=5, help="How many chunks (default 5).")
    parser.add_argument(
        "--mode", choices=SEARCH_MODES, default="hybrid", help="hybrid (default), vector, keyword"
    )
    parser.add_argument("--json", action="store_true", help="Print the hits as JSON.")
    args = parser.parse_args(argv)
    settings = LakehouseSettings.from_env()
    kb = settings.knowledge_base
    try:
        started = time.perf_counter()
        searcher = KnowledgeBaseSearch.open(kb.tables_root, Path(kb.index_root))
        opened = time.perf_counter()
        hits = searcher.search(args.query, k=args.k, mode=args.mode)
        answered = time.perf_counter()
    except (IndexNotBuiltError, ValueError) as error:
        print(f"lakehouse-search: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([dataclasses.asdict(h) for h in hits], indent=2))
        return 0
    for hit in hits:
        print(format_hit(hit))
        print()
    print(
        f"{len(hits)} hits ({args.mode}) from {len(searcher.chunks)} chunks; index opened in "
        f"{(opened - started) * 1000:.0f} ms, query answered in {(answered - opened) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
