"""File readers: every landed file becomes a stream of UTF-8 CSV bytes (no header) for COPY.

Memory is bounded whatever the file holds: the header is read up to MAX_HEADER_BYTES, records up to
MAX_RECORD_BYTES (csvguard), gzip is inflated chunk by chunk, Parquet is read in batches of bounded size, a
workbook's sheet row by row (elt.xlsx), a JSON array record by record (elt.jsonrecords). Every problem a reader
meets is a FileError naming the file and, where there is one, the line, record or cell.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import BinaryIO

from elt.csvguard import StreamProblem, guarded, split_header
from elt.jsonrecords import read_json
from elt.streams import (
    MAX_RECORD_BYTES,
    CsvStream,
    FileError,
    MiB,
    Wanted,
    bytes_text,
    encoding_hint,
    normalise_column,
)
from elt.xlsx import read_xlsx

__all__ = ["CsvStream", "FileError", "Wanted", "normalise_column", "open_stream"]

CHUNK_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 * MiB
PARQUET_BATCH_ROWS = 100_000
PARQUET_BATCH_BYTES = 64 * MiB
READ_ERRORS = (EOFError, OSError, zlib.error)  # gzip.BadGzipFile is an OSError


def sniff_format(path: Path) -> str:
    """The file's real format from its first bytes: parquet, xlsx, gzip, ole2 (a legacy .xls or an encrypted
    workbook), json, csv or empty."""
    with path.open("rb") as handle:
        head = handle.read(64)
    if not head:
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole2"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):
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


def read_problem(exc: BaseException) -> str:
    """What a read error means, in words."""
    if isinstance(exc, EOFError):
        return "the gzip data ends early (the file is truncated: still being copied, or cut short)"
    if isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        return f"the gzip data is corrupt ({exc})"
    return f"cannot read the file ({exc})"


def _line_at(path: Path, opener: Callable[[Path], BinaryIO], offset: int | None, newline: bytes) -> int:
    """The line number of byte `offset` of the stream (read again, in chunks, up to there); with no offset, the
    line where the readable data stops (a truncated or corrupt file)."""
    if offset is None and opener is _open_gzip:
        return _gzip_line_where_data_stops(path, newline)
    lines = 1
    remaining = offset if offset is not None else float("inf")
    try:
        with opener(path) as handle:
            while remaining > 0:
                block = handle.read(int(min(CHUNK_BYTES, remaining)))
                if not block:
                    break
                lines += block.count(newline)
                remaining -= len(block)
    except READ_ERRORS:
        pass
    return lines


def _gzip_line_where_data_stops(path: Path, newline: bytes) -> int:
    """Inflate a gzip file (member by member, in bounded pieces) as far as it goes, counting lines: unlike
    GzipFile.read, zlib hands over what it inflated before the data broke off. Each piece is fed in two parts,
    its last 8 bytes apart, so that a failed checksum (a member's last 8 bytes) loses no line."""
    lines = 1
    inflater = zlib.decompressobj(wbits=31)
    try:
        with path.open("rb") as raw:
            for piece in iter(lambda: raw.read(64 << 10), b""):
                for part in (piece[:-8], piece[-8:]):
                    while part:
                        lines += inflater.decompress(part, CHUNK_BYTES).count(newline)
                        if inflater.eof:
                            part = inflater.unused_data
                            inflater = zlib.decompressobj(wbits=31)
                        else:
                            part = inflater.unconsumed_tail
    except (OSError, zlib.error):
        pass
    return lines


def _first_not_utf8(path: Path, opener: Callable[[Path], BinaryIO]) -> bytes:
    """Up to 16 bytes from the first byte of the (decompressed) file that is not UTF-8; b"" if there is none. Read
    again, in chunks, only when COPY has refused the file's text."""
    pending = b""
    try:
        with opener(path) as handle:
            while block := handle.read(CHUNK_BYTES):
                data = pending + block
                try:
                    pending = data[codecs.utf_8_decode(data, "strict", False)[1] :]
                except UnicodeDecodeError as exc:
                    return data[exc.start : exc.start + 16]
    except READ_ERRORS:
        pass
    return pending


def _header_names(path: Path, raw: bytes) -> list[str]:
    """The header's names as written (not yet normalised)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(
            f"{path}: line 1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
        )
    if b"\x00" in raw:
        raise FileError(f"{path}: line 1 (header): a NUL byte (0x00): not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 16]
        raise FileError(
            f"{path}: line 1 (header) is not valid UTF-8 ({exc.reason} at byte {exc.start}: {bytes_text(bad[:4])})"
            f"{encoding_hint(bad)}: save the file as UTF-8"
        ) from None
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        raise FileError(f"{path}: line 1 (header): {exc}") from None


def _raw_chunks(handle: BinaryIO, first: bytes) -> Iterator[bytes]:
    """`first`, then the rest of `handle` in chunks; a read error is a StreamProblem where the data stops."""
    chunk = first
    try:
        while chunk:
            yield chunk
            try:
                chunk = handle.read(CHUNK_BYTES)
            except READ_ERRORS as exc:
                raise StreamProblem(None, read_problem(exc)) from None
    finally:
        handle.close()


def _named(path: Path, opener, newline: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Turn a StreamProblem into a FileError naming the file and line."""
    try:
        yield from chunks
    except StreamProblem as problem:
        line = _line_at(path, opener, problem.offset, newline)
        raise FileError(f"{path}: line {line:,}: {problem}") from None


def _csv_stream(path: Path, opener: Callable[[Path], BinaryIO], wanted: Collection[str]) -> CsvStream:
    handle = opener(path)
    try:
        header = split_header(handle.read, MAX_HEADER_BYTES)
        written = _header_names(path, header.raw)
        columns = [normalise_column(name) for name in written]
        if not any(columns):
            raise FileError(f"{path}: no header row (line 1 is blank)")
        first = header.rest + (handle.read(CHUNK_BYTES) if header.terminator else b"")
        while first and not first.strip(b"\r\n") and header.terminator:  # only line ends so far: blank lines
            more = handle.read(CHUNK_BYTES)
            if not more:
                break
            first += more
        if not first.strip():
            raise FileError(f"{path}: header only, no data rows")
    except StreamProblem as problem:
        handle.close()
        raise FileError(f"{path}: line 1: {problem}") from None
    except READ_ERRORS as exc:
        handle.close()
        line = _line_at(path, opener, None, b"\n")
        raise FileError(f"{path}: line {line:,}: {read_problem(exc)}") from None
    except BaseException:
        handle.close()
        raise
    newline = header.terminator[-1:] or b"\n"
    chunks = guarded(_raw_chunks(handle, first), header.size, header.terminator, MAX_RECORD_BYTES)
    extra = [name for name in columns if name not in wanted]
    return CsvStream(
        columns=columns,
        chunks=_named(path, opener, newline, chunks),
        first_line=2,
        extra=extra,
        not_utf8=lambda: _first_not_utf8(path, opener),
        written=written,
    )


def _open_plain(path: Path) -> BinaryIO:
    return path.open("rb")


def _open_gzip(path: Path) -> BinaryIO:
    return gzip.open(path, "rb")


def read_csv(path: Path, wanted: Collection[str]) -> CsvStream:
    return _csv_stream(path, _open_plain, wanted)


def read_gzip_csv(path: Path, wanted: Collection[str]) -> CsvStream:
    return _csv_stream(path, _open_gzip, wanted)


def _first_bad_utf8(column) -> int:
    """The index of the first value of a binary column that is not UTF-8 text."""
    for index, value in enumerate(column.to_pylist()):
        try:
            if value is not None:
                value.decode("utf-8")
        except UnicodeDecodeError:
            return index
    return 0


def _arrow_to_text(batch, path: Path, first_record: int):
    """Every column as text: timestamps in ISO form with microseconds (time-zone-aware ones in UTC, with an explicit
    +00:00), numbers as written by Arrow. A value no text column can hold is a FileError naming its record."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_timestamp(kind):
            if kind.tz is None:
                column = pc.strftime(column.cast(pa.timestamp("us"), safe=False), format="%Y-%m-%d %H:%M:%S")
            else:  # an instant: written in UTC with its offset, so Postgres reads it the same in any time zone
                utc = column.cast(pa.timestamp("us", "UTC"), safe=False)
                column = pc.strftime(utc, format="%Y-%m-%d %H:%M:%S+00:00")
        elif not pa.types.is_string(kind):
            try:
                column = column.cast(pa.string())
            except pa.ArrowInvalid:  # binary that is not UTF-8
                record = first_record + _first_bad_utf8(column)
                raise FileError(f"{path}: record {record:,}: column {name} is not valid UTF-8 text") from None
            except pa.ArrowNotImplementedError:
                message = f"{path}: column {name} has Parquet type {kind}, which cannot be loaded as text"
                raise FileError(message) from None
        lengths = pc.binary_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_RECORD_BYTES:
            record = first_record + pc.index(lengths, longest).as_py()
            raise FileError(
                f"{path}: record {record:,}: column {name} holds a value of {longest / MiB:,.0f} MiB, over the"
                f" {MAX_RECORD_BYTES // MiB} MiB limit of one value"
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _batch_rows(parquet, selected: list[str]) -> int:
    """Rows per batch so that a batch stays near PARQUET_BATCH_BYTES (by the row groups' uncompressed sizes)."""
    wanted = set(selected)
    rows = PARQUET_BATCH_ROWS
    metadata = parquet.metadata
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        if not row_group.num_rows:
            continue
        size = sum(
            row_group.column(i).total_uncompressed_size
            for i in range(row_group.num_columns)
            if row_group.column(i).path_in_schema.split(".")[0] in wanted
        )
        rows = min(rows, max(1, PARQUET_BATCH_BYTES * row_group.num_rows // max(size, 1)))
    return rows


def read_parquet(path: Path, wanted: Collection[str]) -> CsvStream:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise FileError(f"{path}: not a readable Parquet file (truncated or corrupt): {exc}") from None
    if parquet.metadata.num_rows == 0:
        raise FileError(f"{path}: Parquet file has no rows")
    schema = parquet.schema_arrow
    selected = [name for name in schema.names if normalise_column(name) in wanted]
    extra = [normalise_column(name) for name in schema.names if normalise_column(name) not in wanted]
    for name in selected:
        kind = schema.field(name).type
        if pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type)):
            raise FileError(
                f"{path}: column {name} is a nested Parquet type ({kind}), not a single value: the contract's"
                " columns hold one value each; flatten it in the export"
            )
    options = pa_csv.WriteOptions(include_header=False)
    batch_rows = _batch_rows(parquet, selected)

    def chunks() -> Iterator[bytes]:
        record = 1
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows, columns=selected):
                sink = io.BytesIO()
                pa_csv.write_csv(_arrow_to_text(batch, path, record), sink, options)
                record += batch.num_rows
                yield sink.getvalue()
        except (pa.ArrowException, OSError) as exc:
            raise FileError(
                f"{path}: record {record:,} on: the Parquet data cannot be read (truncated or corrupt): {exc}"
            ) from None

    columns = [normalise_column(name) for name in selected]
    return CsvStream(columns=columns, chunks=chunks(), first_line=1, extra=extra)


READERS: dict[str, Callable[[Path, Wanted], CsvStream]] = {
    "csv": read_csv,
    "gzip": read_gzip_csv,
    "parquet": read_parquet,
    "xlsx": read_xlsx,
    "json": read_json,
}


def open_stream(path: Path, wanted: Collection[str]) -> CsvStream:
    """Open a landed file as a CSV stream; its content must match its name. A CSV stream holds every column of the
    file (the loader keeps the `wanted` ones); Parquet, XLSX and JSON streams only the `wanted` ones. `wanted` is a
    Wanted (columns, required ones, sheet) or a plain collection of column names."""
    wanted = Wanted.of(wanted)
    try:
        actual, promised = sniff_format(path), expected_format(path)
    except OSError as exc:
        raise FileError(f"{path}: {read_problem(exc)}") from None
    if actual == "empty":
        raise FileError(f"{path}: file is empty (0 bytes)")
    if actual == "json" and promised == "csv":
        actual = "csv"
    if actual == "ole2":
        raise FileError(
            f"{path}: an OLE2 compound file (a legacy .xls workbook, or a password-protected .xlsx), not"
            f" {promised}: save it as an .xlsx workbook without a password"
        )
    if actual != promised:
        raise FileError(f"{path}: named as {promised} but its content is {actual}")
    reader = READERS.get(actual)
    if reader is None:
        raise FileError(f"{path}: {actual} files are not supported for this table")
    try:
        return reader(path, wanted)
    except READ_ERRORS as exc:
        raise FileError(f"{path}: {read_problem(exc)}") from None
