"""The byte-level CSV guards: header split, record bounds, quotes, trailing blank lines, without a database."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator

import pytest

from elt.csvguard import StreamProblem, guarded, split_header


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize(
    ("data", "raw", "terminator", "rest"),
    [
        (b"a,b\nc,d\n", b"a,b", b"\n", b"c,d\n"),
        (b"a,b\r\nc,d\r\n", b"a,b", b"\r\n", b"c,d\r\n"),
        (b"a,b\rc,d\r", b"a,b", b"\r", b"c,d\r"),
        (b"a,b", b"a,b", b"", b""),
    ],
)
def test_header_and_its_line_end(data: bytes, raw: bytes, terminator: bytes, rest: bytes) -> None:
    header = split_header(io.BytesIO(data).read, 1024)
    assert (header.raw, header.terminator, header.rest) == (raw, terminator, rest)


def test_a_crlf_split_across_reads_is_one_line_end() -> None:
    data = b"h" * (64 * 1024 - 1) + b"\r\nrow\r\n"
    header = split_header(io.BytesIO(data).read, 1 << 20)
    assert header.terminator == b"\r\n" and header.rest.startswith(b"row")


def test_a_header_over_the_limit_stops_reading_at_the_limit() -> None:
    reads = []

    def read(size: int) -> bytes:
        reads.append(size)
        return b"x" * size  # an endless header

    with pytest.raises(StreamProblem, match="longer than 1,024 KiB"):
        split_header(read, 1 << 20)
    assert sum(reads) <= (1 << 20) + 64 * 1024


def _all(chunks: Iterator[bytes], max_record: int = 100, terminator: bytes = b"\n") -> bytes:
    return b"".join(guarded(chunks, 0, terminator, max_record))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_chunks_pass_through_whatever_their_size(size: int) -> None:
    data = b'1,"a\n""b"""\n2,x\n3,"y,z"\n'
    assert _all(chunked(data, size)) == data


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_blank_lines_at_the_end_are_dropped_but_one(size: int) -> None:
    assert _all(chunked(b"1,a\n2,b\n\n\n\n", size)) == b"1,a\n2,b\n"
    assert _all(chunked(b"1,a\r\n2,b\r\n\r\n\r\n", size), terminator=b"\r\n") == b"1,a\r\n2,b\r\n"
    assert _all(chunked(b'1,"a\n\n"\n', size)) == b'1,"a\n\n"\n', "line ends inside quotes are data"


def test_a_long_line_fails_at_its_start_without_reading_much_further() -> None:
    consumed = []

    def endless() -> Iterator[bytes]:
        yield b"1,a\n2,"
        for _ in itertools.count():
            consumed.append(10)
            yield b"x" * 10

    with pytest.raises(StreamProblem, match="a line longer than") as problem:
        _all(endless(), max_record=100)
    assert problem.value.offset == 4, "the record starts after the first line"
    assert sum(consumed) <= 120


def test_an_open_quote_fails_where_it_opened() -> None:
    with pytest.raises(StreamProblem, match="never closed") as problem:
        _all(chunked(b'1,a\n2,"b\n3,c\n', 2), max_record=1000)
    assert problem.value.offset == 4
    with pytest.raises(StreamProblem, match="quoted field runs on"):
        _all(chunked(b'1,a\n2,"' + b"b\n" * 100, 5), max_record=50)
