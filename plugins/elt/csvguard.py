"""Byte-level guards on a CSV stream, cheap enough for the COPY fast path: a bounded header, bounded records,
quotes that close, blank lines at the end dropped.

Records are split the way Postgres's COPY (format csv) splits them: a line end ends a record unless it is inside
quotes, and every `"` toggles "inside quotes" (an escaped `""` toggles twice), so the parity of the quotes seen
says where we are. A chunk without a quote, outside quotes, costs one `in` test and one `rfind`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

MiB = 1 << 20
HEADER_BLOCK = 64 << 10


class StreamProblem(Exception):
    """A problem at a byte `offset` of the (decompressed) stream, or (None) where the readable data stops; the
    reader turns it into a line number."""

    def __init__(self, offset: int | None, message: str) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Header:
    """The first line of a CSV stream, its line end (b"" when the stream has no line end) and what was read past it."""

    raw: bytes
    terminator: bytes
    rest: bytes

    @property
    def size(self) -> int:
        return len(self.raw) + len(self.terminator)


def _first_line_end(buffer: bytes, start: int) -> int:
    ends = [i for i in (buffer.find(b"\n", start), buffer.find(b"\r", start)) if i >= 0]
    return min(ends) if ends else -1


def split_header(read: Callable[[int], bytes], limit: int) -> Header:
    """Read up to the first line end (\\n, \\r\\n or \\r), at most `limit` bytes of header; a longer first line
    raises StreamProblem without reading further."""
    buffer = b""
    while True:
        block = read(HEADER_BLOCK)
        start = max(len(buffer) - 1, 0)
        buffer += block
        end = _first_line_end(buffer, start)
        if end > limit or (end < 0 and len(buffer) > limit):
            raise StreamProblem(0, f"the header is longer than {limit // 1024:,} KiB with no line end: not a CSV file?")
        if end >= 0:
            if buffer[end] == 13 and end + 1 == len(buffer) and block:
                continue  # a \r at the end of what was read: see whether \n follows
            terminator = b"\r\n" if buffer[end : end + 2] == b"\r\n" else buffer[end : end + 1]
            return Header(buffer[:end], terminator, buffer[end + len(terminator) :])
        if not block:
            return Header(buffer, b"", b"")


def _last_record_end(chunk: bytes, newline: bytes, parity: int) -> int:
    """The index of the last line end of `chunk` outside quotes, or -1; `parity` is 1 if the chunk ends inside
    quotes."""
    end = len(chunk)
    while True:
        index = chunk.rfind(newline, 0, end)
        if index < 0:
            return -1
        parity ^= chunk.count(b'"', index + 1, end) & 1
        if not parity:
            return index
        end = index


def guarded(chunks: Iterator[bytes], start: int, terminator: bytes, max_record: int) -> Iterator[bytes]:
    """Pass `chunks` (the stream from byte offset `start` on) through, raising StreamProblem for a record longer
    than `max_record` bytes (before reading much past it) or a quoted field still open at the end; line ends after
    the last record are dropped but one (blank lines at the end of a file are not records)."""
    newline = terminator[-1:] or b"\n"
    in_quotes = 0
    record_start = position = start  # where the current record starts; the offset of the next unread byte
    held = b""
    for data in chunks:
        chunk = held + data if held else data
        base = position - len(held)
        position += len(data)
        held = b""
        if in_quotes or b'"' in chunk:
            end_parity = in_quotes ^ (chunk.count(b'"') & 1)
            last = _last_record_end(chunk, newline, end_parity)
            in_quotes = end_parity
        else:
            last = chunk.rfind(newline)
        if last >= 0:
            record_start = base + last + 1
        if position - record_start > max_record:
            size = f"{max_record // MiB:,} MiB"
            if in_quotes:
                raise StreamProblem(
                    record_start, f'a quoted field runs on for more than {size}: a quote (") that is never closed?'
                )
            raise StreamProblem(record_start, f"a line longer than {size}: a runaway value, or not a CSV file")
        if chunk[-1:] in (b"\n", b"\r"):
            kept = len(chunk.rstrip(b"\r\n"))
            held, chunk = chunk[kept:], chunk[:kept]
        if chunk:
            yield chunk
    if in_quotes:
        raise StreamProblem(record_start, 'a quoted field that starts here is never closed (a " without its pair)')
    if held:
        yield terminator if terminator and held.startswith(terminator) else held
