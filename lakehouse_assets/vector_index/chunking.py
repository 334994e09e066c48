"""Split documents into overlapping chunks along their structure. Pure functions.

Markdown is cut at headings first, so a chunk never mixes two sections, and each chunk keeps
its section title (it is embedded with the chunk: "Runbook: SLA miss > Diagnosis" says more
than the paragraph alone). Within a section, paragraphs are packed up to ``size`` characters;
a paragraph longer than that is cut at sentence, then word, boundaries. Each chunk after the
first of a section starts with the last ``overlap`` characters of the previous one (at a word
boundary), so an answer that straddles a cut is still whole in one chunk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from itertools import pairwise

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
_SPACE = re.compile(r"\s+")


def embedding_text(title: str, section: str, text: str) -> str:
    """What is embedded: the chunk with its document and section titles."""
    heading = title if section in ("", title) else f"{title} > {section}"
    return f"{heading}\n{text}"


@dataclass(frozen=True)
class SourceDocument:
    """A whole document before chunking."""

    document_id: str
    title: str
    category: str
    source: str
    text: str


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a document."""

    document_id: str
    chunk_index: int
    title: str
    section: str
    category: str
    source: str
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.document_id}#{self.chunk_index:04d}"

    @property
    def embedding_text(self) -> str:
        return embedding_text(self.title, self.section, self.text)

    @property
    def content_hash(self) -> str:
        """Changes whenever what would be embedded changes (text or titles)."""
        return hashlib.sha256(self.embedding_text.encode()).hexdigest()


def markdown_sections(text: str, default_title: str) -> list[tuple[str, str]]:
    """``(section title, body)`` per heading; text before the first heading gets the title."""
    sections: list[tuple[str, list[str]]] = [(default_title, [])]
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(body).strip()) for title, body in sections if "".join(body).strip()]


def _pieces(paragraph: str, size: int) -> list[str]:
    """``paragraph`` cut into pieces of at most ``size`` characters, at the widest boundary."""
    if len(paragraph) <= size:
        return [paragraph]
    for separator, joiner in ((re.compile(r"\n"), "\n"), (_SENTENCE_END, " "), (_SPACE, " ")):
        parts = [p for p in separator.split(paragraph) if p]
        if len(parts) > 1 and max(len(p) for p in parts) <= size:
            return _pack(parts, size, joiner=joiner)
    return [paragraph[i : i + size] for i in range(0, len(paragraph), size)]


def _pack(parts: list[str], size: int, joiner: str) -> list[str]:
    packed: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) <= size:
            current = candidate
        else:
            packed.append(current)
            current = part
    if current:
        packed.append(current)
    return packed


def _tail(text: str, overlap: int) -> str:
    if len(text) <= overlap:
        return text
    tail = text[-overlap:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail


def split_text(text: str, size: int, overlap: int) -> list[str]:
    """Chunks of one section's ``text``: at most ``size + overlap`` characters each."""
    if size <= 0:
        raise ValueError(f"chunk size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"chunk overlap must be in [0, size), got {overlap} for size {size}")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces = [piece for p in paragraphs for piece in _pieces(p, size)]
    chunks = _pack(pieces, size, joiner="\n\n")
    if overlap == 0:
        return chunks
    overlapped = chunks[:1]
    for previous, current in pairwise(chunks):
        overlapped.append(f"{_tail(previous, overlap)} {current}")
    return overlapped


def chunk_document(document: SourceDocument, size: int, overlap: int) -> list[Chunk]:
    """Every chunk of ``document``, numbered in reading order."""
    texts = [
        (section, piece)
        for section, body in markdown_sections(document.text, document.title)
        for piece in split_text(body, size, overlap)
    ]
    return [
        Chunk(
            document_id=document.document_id,
            chunk_index=index,
            title=document.title,
            section=section,
            category=document.category,
            source=document.source,
            text=text,
        )
        for index, (section, text) in enumerate(texts)
    ]
