"""Decode landed files into records in plain Python: no Spark, so every rule is unit-tested.

A landed file is bytes. Before any parser sees a record, this module decides:

* **which files are read** (:func:`reject_reason`): a source accepts its format's extensions in
  any case, optionally compressed (``orders.JSON.gz``); anything else is *rejected* with a
  reason in the file ledger, never silently ignored;
* **how bytes become lines** (:func:`decompress`, :func:`split_lines`): gzip is recognised by
  its magic bytes whatever the file is called, lines end at ``\\n`` (a trailing ``\\r`` is
  dropped), a leading UTF-8 byte-order mark is dropped;
* **which lines are not one well-formed record** (:func:`line_problem`): bytes that are not
  UTF-8, more than one JSON value on a line, a key that appears twice in an object. Those
  records go to the dead-letter queue with their original bytes, so nothing is dropped and
  replay can decode them again.

:func:`count_records` is the **independent count** the accounting is proved against: it counts
non-blank lines (or Parquet rows from the footer) straight from the bytes, sharing no code with
the parser that fills bronze, so a parser that loses records cannot also hide the loss.
"""

from __future__ import annotations

import bz2
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

FILE_FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "jsonl": (".jsonl", ".json", ".ndjson"),
    "csv": (".csv",),
    "parquet": (".parquet",),
}
# Compression by extension; gzip is also recognised by content (a ``.jsonl`` that is gzip).
COMPRESSION_EXTENSIONS: dict[str, str] = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2"}
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r"

# File rejection reasons (file ledger, status 'rejected').
UNSUPPORTED_EXTENSION = "unsupported_extension"
COMPRESSED_COLUMNAR = "compressed_parquet"
NOT_IN_A_DATE_FOLDER = "not_in_a_date_folder"

# Record problems (dead-letter reasons), found before the typed parse.
INVALID_ENCODING = "invalid_encoding"
INVALID_JSON = "invalid_json"
MULTIPLE_JSON_VALUES = "multiple_json_values"
DUPLICATE_KEY = "duplicate_key"
UNREADABLE_FILE = "unreadable_file"


class UnreadableFileError(ValueError):
    """The file's bytes cannot be decompressed (corrupt or truncated archive)."""


def compression_of(name: str) -> str | None:
    """The compression a file name declares (``None`` for none)."""
    lower = name.lower()
    return next((c for ext, c in COMPRESSION_EXTENSIONS.items() if lower.endswith(ext)), None)


def reject_reason(name: str, file_format: str) -> str | None:
    """Why a file named ``name`` is not read as ``file_format`` (``None``: it is read)."""
    lower = name.lower()
    compressed = compression_of(lower)
    if compressed:
        lower = lower.rsplit(".", 1)[0]
    if not lower.endswith(FILE_FORMAT_EXTENSIONS[file_format]):
        return UNSUPPORTED_EXTENSION
    if compressed and file_format == "parquet":
        return COMPRESSED_COLUMNAR  # Parquet compresses inside the file; a .gz cannot be split
    return None


def decompress(data: bytes, name: str = "") -> bytes:
    """The file's content: gunzipped when it is gzip (by magic bytes, whatever its name),
    bunzipped when named ``.bz2``. Raises :class:`UnreadableFileError` on a corrupt archive."""
    try:
        if data[:2] == _GZIP_MAGIC:
            return gzip.decompress(data)
        if compression_of(name) == "bzip2":
            return bz2.decompress(data)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise UnreadableFileError(f"cannot decompress: {exc}") from exc
    if compression_of(name) == "gzip":
        raise UnreadableFileError("named .gz but is not gzip")
    return data


def split_lines(content: bytes) -> list[bytes]:
    """Lines of ``content`` without terminators: split at ``\\n``, a trailing ``\\r`` dropped,
    a leading byte-order mark dropped (also mid-file: concatenated extracts carry one each).
    A last line without ``\\n`` is a line; an empty content has none."""
    if not content:
        return []
    lines = content.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [_without_bom(line[:-1] if line.endswith(b"\r") else line) for line in lines]


def _without_bom(line: bytes) -> bytes:
    return line[len(_BOM) :] if line.startswith(_BOM) else line


def is_blank(line: bytes) -> bool:
    return not line.strip(_BLANK)


def count_records(data: bytes, name: str, file_format: str) -> int:
    """Records in a landed file, counted from its bytes alone (the accounting's ground truth).

    JSON lines: non-blank lines. CSV: non-blank lines after the header. Parquet: the footer's
    row count. A file that cannot be decompressed or read is one (unreadable) record.
    """
    try:
        if file_format == "parquet":
            return _parquet_rows(data)
        content = decompress(data, name)
    except UnreadableFileError:
        return 1
    non_blank = sum(1 for line in content.split(b"\n") if line.removeprefix(_BOM).strip(_BLANK))
    if file_format == "csv":
        return max(non_blank - 1, 0)
    return non_blank


def _parquet_rows(data: bytes) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for a bad footer
        raise UnreadableFileError(str(exc)) from exc


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKeyError
    return result


def json_problem(text: str) -> str | None:
    """Why ``text`` is not exactly one JSON object without duplicate keys (``None``: it is)."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKeyError:
        return DUPLICATE_KEY
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _is_value_sequence(text):
            return MULTIPLE_JSON_VALUES
        return INVALID_JSON
    except RecursionError:
        return INVALID_JSON
    return None if isinstance(value, dict) else INVALID_JSON


def _is_value_sequence(text: str) -> bool:
    decoder, position, values = json.JSONDecoder(), 0, 0
    text = text.strip()
    while position < len(text):
        try:
            _, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return False
        values += 1
        while position < len(text) and text[position].isspace():
            position += 1
    return values > 1


@dataclass(frozen=True)
class DecodedLine:
    """One line of a landed file: its text, whether it is blank, and what is wrong with it.

    ``raw_bytes`` is set only when the text cannot carry the bytes exactly (not UTF-8).
    """

    text: str
    blank: bool
    problem: str | None = None
    raw_bytes: bytes | None = None


def line_problem(line: bytes, file_format: str) -> DecodedLine:
    """Decode one line strictly (UTF-8; JSON shape for JSON lines)."""
    if is_blank(line):
        return DecodedLine(line.decode("utf-8", "replace"), blank=True)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return DecodedLine(line.decode("utf-8", "replace"), False, INVALID_ENCODING, line)
    if file_format == "jsonl":
        return DecodedLine(text, False, json_problem(text))
    return DecodedLine(text, False)


def decode_file(data: bytes, name: str, file_format: str) -> Iterator[DecodedLine]:
    """Every line of a JSON-lines or CSV file (CSV: the header is the first line), or one
    unreadable record when the file cannot be decompressed."""
    try:
        content = decompress(data, name)
    except UnreadableFileError as exc:
        yield DecodedLine(str(exc), False, UNREADABLE_FILE)
        return
    for line in split_lines(content):
        yield line_problem(line, file_format)


def csv_fields(header: str, line: str) -> dict[str, str] | None:
    """A CSV line as ``{column: value}`` under ``header``; ``None`` if it has more fields than
    the header (a malformed row is never truncated). Missing trailing fields are absent."""
    import csv

    names = [n.strip() for n in next(csv.reader([header]))]
    values = next(csv.reader([line]), [])
    if len(values) > len(names):
        return None
    return {n: v for n, v in zip(names, values, strict=False) if v != ""}
