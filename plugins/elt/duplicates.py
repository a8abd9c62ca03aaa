"""Duplicate files: a file whose content (sha256) is already loaded for the same table is not loaded again.

"Already loaded" means: in a `loaded` row of audit.load_log of the latest batch that loaded files into another
partition of the table (what that partition holds now), or in an earlier file (by modification time, then name)
of the same load. The partition being loaded does not count against itself: a re-run replaces it. Identical rows
inside a file are data and are kept. A table of daily full snapshots (`Table.snapshot`) counts only the earlier files
of the same load: an unchanged file on the next day is that day's snapshot.

Two loads of different partitions that carry the same file take an advisory lock on its content (in sha256
order, after their partition lock, so they never deadlock): the second waits for the first to commit and then
sees its file as loaded, as if they had run one after the other.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class HashedFile:
    """A data file about to be loaded: where, how it is shown, its content hash and its stat at hashing time."""

    path: Path
    shown: str
    sha256: str
    stat: os.stat_result

    def changed(self) -> bool:
        """True if the file is not the one that was hashed any more (size, modification time or inode differ)."""
        try:
            now = os.stat(self.path)
        except OSError:
            return True
        before = self.stat
        return (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino)


def hash_file(path: Path, shown: str) -> HashedFile:
    """Hash a file (one streaming read) and remember its stat, to see later whether it changed meanwhile."""
    with path.open("rb") as handle:
        info = os.fstat(handle.fileno())
        digest = hashlib.file_digest(handle, "sha256")
    return HashedFile(path, shown, digest.hexdigest(), info)


def lock_contents(conn: psycopg.Connection, schema: str, table: str, hashes: list[str]) -> None:
    """Serialise loads of the same content into the same table (released at commit or rollback)."""
    for sha in sorted(set(hashes)):
        conn.execute("select pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", (f"{schema}.{table}#content", sha))


LOADED_ELSEWHERE_SQL = """
select l.file_sha256, l.file_path, l.partition_date, l.batch_id
from audit.load_log l
where l.source = %(source)s and l.table_name = %(table)s and l.status = 'loaded'
  and l.file_sha256 = any(%(hashes)s) and l.partition_date <> %(day)s
  and l.batch_id = (
      select b.batch_id from audit.load_log b
      where b.source = l.source and b.table_name = l.table_name and b.partition_date = l.partition_date
        and b.status = 'loaded'
      order by b.finished_at desc, b.batch_id desc
      limit 1)
order by l.partition_date, l.file_path
"""


def duplicates(
    conn: psycopg.Connection, source: str, table: str, day: date, files: list[HashedFile], snapshot: bool = False
) -> dict[Path, str]:
    """The files not to load, each with the message saying which file (and partition) already holds its content;
    with `snapshot`, only the files repeating an earlier file of this load."""
    hashes = sorted({f.sha256 for f in files})
    elsewhere: dict[str, tuple[str, date, int]] = {}
    if not snapshot:
        rows = conn.execute(LOADED_ELSEWHERE_SQL, {"source": source, "table": table, "hashes": hashes, "day": day})
        for sha, path, partition, batch in rows:
            elsewhere.setdefault(sha, (path, partition, batch))
    found: dict[Path, str] = {}
    first_here: dict[str, HashedFile] = {}
    for landed in sorted(files, key=lambda f: (f.stat.st_mtime_ns, os.fsencode(f.path.name))):
        sha = landed.sha256
        if sha in elsewhere:
            path, partition, batch = elsewhere[sha]
            found[landed.path] = (
                f"same content (sha256 {sha[:12]}…) as {path}, loaded in partition {partition} (batch {batch}):"
                " not loaded again"
            )
        elif sha in first_here:
            found[landed.path] = (
                f"same content (sha256 {sha[:12]}…) as {first_here[sha].shown} of this partition: not loaded again"
            )
        else:
            first_here[sha] = landed
    return found
