"""File readers: every landed file becomes a stream of UTF-8 CSV bytes (no header) for COPY."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_BYTES = 1 << 20
PARQUET_BATCH_ROWS = 100_000


class FileError(Exception):
    """A landed file cannot be loaded: the message names the file and the problem."""


@dataclass
class CsvStream:
    """A file as CSV for COPY: its columns, the data chunks (no header) and its SHA-256."""

    columns: list[str]
    chunks: Iterator[bytes]
    first_line: int  # line or record number of the first data row in the file
    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    extra: list[str] = field(default_factory=list)  # columns in the file that no contract names (dropped)


def normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def sniff_format(path: Path) -> str:
    """The file's real format from its first bytes: parquet, xlsx, gzip, json, csv or empty."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


def expected_format(path: Path) -> str:
    """The format the file's name promises."""
    name = path.name.lower()
    for suffix, fmt in (
        (".parquet", "parquet"),
        (".parquet.gzip", "parquet"),
        (".parquet.gz", "parquet"),
        (".xlsx", "xlsx"),
        (".json", "json"),
        (".csv.gz", "gzip"),
        (".csv", "csv"),
    ):
        if name.endswith(suffix):
            return fmt
    return "csv"


def _filtered(path: Path, lines: Iterator[bytes], keep: list[int]) -> Iterator[bytes]:
    """Re-encode CSV rows keeping only the columns at `keep` (the slow path, for files with extra columns)."""
    text = io.TextIOWrapper(_BytesIterIO(lines), encoding="utf-8", newline="")
    reader = csv.reader(text)
    sink = io.StringIO()
    writer = csv.writer(sink, lineterminator="\n")
    try:
        for row in reader:
            writer.writerow([row[i] if i < len(row) else "" for i in keep])
            if sink.tell() >= CHUNK_BYTES:
                yield sink.getvalue().encode()
                sink.seek(0)
                sink.truncate()
    except UnicodeDecodeError as exc:
        raise FileError(f"{path}: line {reader.line_num + 2}: not valid UTF-8 ({exc.reason})") from None
    except csv.Error as exc:
        raise FileError(f"{path}: line {reader.line_num + 1}: {exc}") from None
    yield sink.getvalue().encode()


class _BytesIterIO(io.RawIOBase):
    """A readable binary file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            self._rest = next(self._chunks, b"")
            if not self._rest:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size], self._rest = self._rest[:size], self._rest[size:]
        return size


def _csv_stream(path: Path, opener: Callable[[Path], io.BufferedIOBase], wanted: set[str]) -> CsvStream:
    digest = hashlib.sha256()
    handle = opener(path)
    header_bytes = handle.readline()
    digest.update(header_bytes)
    try:
        header_text = header_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        handle.close()
        raise FileError(f"{path}: line 1 (header) is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    columns = [normalise_column(name) for name in next(csv.reader([header_text]), [])]
    if not any(columns):
        handle.close()
        raise FileError(f"{path}: no header row")
    first = handle.read(CHUNK_BYTES)
    if not first.strip():
        handle.close()
        raise FileError(f"{path}: header only, no data rows")

    def raw_chunks() -> Iterator[bytes]:
        chunk = first
        try:
            while chunk:
                digest.update(chunk)
                yield chunk
                chunk = handle.read(CHUNK_BYTES)
        finally:
            handle.close()

    keep = [i for i, name in enumerate(columns) if name in wanted]
    if len(keep) == len(columns):
        return CsvStream(columns=columns, chunks=raw_chunks(), first_line=2, sha256=digest)
    extra = [name for name in columns if name not in wanted]
    kept = [columns[i] for i in keep]
    return CsvStream(columns=kept, chunks=_filtered(path, raw_chunks(), keep), first_line=2, sha256=digest, extra=extra)


def read_csv(path: Path, wanted: set[str]) -> CsvStream:
    return _csv_stream(path, lambda p: p.open("rb"), wanted)


def read_gzip_csv(path: Path, wanted: set[str]) -> CsvStream:
    return _csv_stream(path, lambda p: gzip.open(p, "rb"), wanted)


def _arrow_to_text(batch):
    """Every column as text: timestamps in ISO form with microseconds, numbers as written by Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            column = pc.strftime(
                column.cast(pa.timestamp("us", column.type.tz), safe=False), format="%Y-%m-%d %H:%M:%S"
            )
        elif not pa.types.is_string(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def read_parquet(path: Path, wanted: set[str]) -> CsvStream:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"{path}: not a readable Parquet file (truncated or corrupt): {exc}") from None
    if parquet.metadata.num_rows == 0:
        raise FileError(f"{path}: Parquet file has no rows")
    names = parquet.schema_arrow.names
    selected = [name for name in names if normalise_column(name) in wanted]
    extra = [normalise_column(name) for name in names if normalise_column(name) not in wanted]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    options = pa_csv.WriteOptions(include_header=False)

    def chunks() -> Iterator[bytes]:
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=selected):
                sink = io.BytesIO()
                pa_csv.write_csv(_arrow_to_text(batch), sink, options)
                yield sink.getvalue()
        except (pa.ArrowException, OSError) as exc:
            raise FileError(f"{path}: Parquet file is truncated or corrupt: {exc}") from None

    columns = [normalise_column(name) for name in selected]
    return CsvStream(columns=columns, chunks=chunks(), first_line=1, sha256=digest, extra=extra)


READERS: dict[str, Callable[[Path, set[str]], CsvStream]] = {
    "csv": read_csv,
    "gzip": read_gzip_csv,
    "parquet": read_parquet,
}


def open_stream(path: Path, wanted: set[str]) -> CsvStream:
    """Open a landed file as a CSV stream of the `wanted` columns it has; its content must match its name."""
    actual, promised = sniff_format(path), expected_format(path)
    if actual == "empty":
        raise FileError(f"{path}: file is empty (0 bytes)")
    if actual == "json" and promised == "csv":
        actual = "csv"
    if actual != promised:
        raise FileError(f"{path}: named as {promised} but its content is {actual}")
    reader = READERS.get(actual)
    if reader is None:
        raise FileError(f"{path}: {actual} files are not supported for this table")
    return reader(path, wanted)
