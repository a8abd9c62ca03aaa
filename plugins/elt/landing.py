"""The landing zone: which entries of a partition folder are data files of which table, which are not (and why),
and which folders of a source are not partition folders at all.

Nothing here follows a symbolic link or opens a file: entries are judged by `lstat` and name only, so a link out
of the landing zone, a FIFO or a folder never reaches a reader.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from elt.sources import Source

log = logging.getLogger(__name__)

NO_TABLE = "(none)"  # load_log.table_name of an entry that no table of the source claims
TEMP_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".filepart", ".tmp", ".temp", "~")
TEMP_PREFIXES = ("~$", ".~lock.")
_DATE_LIKE = re.compile(r"^(\d{4})[-_./]?(\d{1,2})[-_./]?(\d{1,2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """`text` safe to print and to store as Postgres text: bytes of a file name that are not UTF-8 (surrogate
    escapes) and control characters (NUL, newline, ...) become backslash escapes such as \\xe9."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def display_path(path: Path, landing: Path) -> str:
    """The path as load_log, lineage and messages show it: relative to the landing zone, printable."""
    try:
        relative = os.fspath(path.relative_to(landing))
    except ValueError:
        relative = os.fspath(path)
    return printable(relative)


def name_problem(path: Path) -> str | None:
    """Why a file's name cannot be recorded as it is (not UTF-8, control characters), or None."""
    if printable(path.name) == path.name:
        return None
    return (
        "its name is not valid UTF-8 or holds control characters (shown here with \\x escapes), so it cannot be"
        " recorded as it is: rename the file"
    )


@dataclass(frozen=True)
class Skipped:
    """A landing entry that is not loaded, the table it was meant for (NO_TABLE if none) and why."""

    path: Path
    table: str
    reason: str


@dataclass
class Landed:
    """A partition folder sorted out: data files per table, and the entries skipped."""

    files: dict[str, list[Path]]
    skipped: list[Skipped] = field(default_factory=list)

    def skipped_for(self, table: str) -> list[Skipped]:
        return [s for s in self.skipped if s.table == table]


def _temporary(name: str) -> str | None:
    lower = name.lower()
    for prefix in TEMP_PREFIXES:
        if lower.startswith(prefix):
            return prefix
    for suffix in TEMP_SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return suffix
    return None


def _meant_for(source: Source, name: str) -> list[str]:
    """The tables a skipped entry's name points to once temporary or hidden markers are taken off ([NO_TABLE] if
    none)."""
    bare = name
    for prefix in (*TEMP_PREFIXES, "."):
        if bare.lower().startswith(prefix):
            bare = bare[len(prefix) :]
    for suffix in TEMP_SUFFIXES:
        if bare.lower().endswith(suffix):
            bare = bare[: -len(suffix)]
    return [table.name for table in source.tables_for(bare)] or [NO_TABLE]


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def classify(source: Source, path: Path, folder_text: str) -> tuple[list[str], str | None]:
    """(tables, None) for a data file of `tables` (a workbook may feed several, one per sheet); (tables or
    [NO_TABLE], reason) for an entry that is skipped."""
    name = path.name
    try:
        info = path.lstat()
    except OSError as exc:  # gone between listing and now, or unreadable
        return _meant_for(source, name), f"cannot be examined ({exc.strerror or exc}): not loaded"
    if stat.S_ISLNK(info.st_mode):
        try:
            target = printable(os.readlink(path))
        except OSError:
            target = "?"
        return _meant_for(source, name), (
            f"a symbolic link (to {target}): links are not followed, so that nothing outside the landing zone is"
            " read; put the file itself in the folder"
        )
    if stat.S_ISDIR(info.st_mode):
        return _meant_for(source, name), (
            f"a folder: the files of a partition go directly in {folder_text}/ (sub-folders are not read)"
        )
    if not stat.S_ISREG(info.st_mode):
        return _meant_for(source, name), f"{_kind(info.st_mode)}, not a data file"
    marker = _temporary(name)
    if marker:
        return _meant_for(source, name), (
            f"a temporary file ({marker}) of a transfer or program still at work: it is loaded once it has its"
            " final name"
        )
    if name.startswith("."):
        return _meant_for(source, name), "a hidden file (its name starts with '.'), not a data file"
    tables = source.tables_for(name)
    if not tables:
        patterns = sorted({p for t in source.tables for p in t.patterns})
        return [NO_TABLE], f"no table of source {source.name} takes this name (names must match {', '.join(patterns)})"
    return [table.name for table in tables], None


def scan_partition(source: Source, folder: Path, landing: Path) -> Landed:
    """Sort a partition folder's entries (by name) into data files per table and skipped entries; each skipped
    entry is logged as a warning."""
    landed = Landed(files={table.name: [] for table in source.tables})
    if not folder.is_dir():
        return landed
    folder_text = display_path(folder, landing)
    for path in sorted(folder.iterdir(), key=lambda p: os.fsencode(p.name)):
        tables, reason = classify(source, path, folder_text)
        for table in tables:
            if reason is None:
                landed.files[table].append(path)
            else:
                landed.skipped.append(Skipped(path, table, reason))
        if reason is not None:
            log.warning("%s: skipped: %s", display_path(path, landing), reason)
    return landed


def partition_of(name: str) -> date | None:
    """The date a folder name stands for if it is written in another form than YYYY-MM-DD (2024-3-1, 20240301,
    2024_03_01), or None."""
    match = _DATE_LIKE.match(name)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Misplaced:
    """An entry of `<landing>/<source>/` that is not a partition folder: its files are never loaded."""

    path: Path
    meant: date | None  # the partition its name seems to mean, if any
    message: str


def misplaced_entries(source: Source, landing: Path) -> list[Misplaced]:
    """Entries of the source's landing folder that no run loads: folders not named YYYY-MM-DD (with the date
    they seem to mean), files outside a partition folder. Hidden entries are ignored."""
    base = landing / source.name
    if not base.is_dir():
        return []
    found = []
    for path in sorted(base.iterdir(), key=lambda p: os.fsencode(p.name)):
        name = path.name
        if name.startswith("."):
            continue
        shown = display_path(path, landing)
        if path.is_dir():
            try:
                if date.fromisoformat(name).isoformat() == name:
                    continue
            except ValueError:
                pass
            meant = partition_of(name)
            if meant is not None:
                message = (
                    f"{shown}/: a folder named like a date but not in the form YYYY-MM-DD: its files are never"
                    f" loaded; rename it to {meant.isoformat()}"
                )
            else:
                message = (
                    f"{shown}/: not a partition folder (partition folders are named YYYY-MM-DD, e.g."
                    f" {source.name}/2024-03-01/): its files are never loaded"
                )
        else:
            meant = None
            message = (
                f"{shown}: a file outside any partition folder: it is never loaded; move it into"
                f" {source.name}/YYYY-MM-DD/"
            )
        found.append(Misplaced(path, meant, message))
    return found
