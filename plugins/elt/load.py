"""COPY loader: one transaction per table and partition, lineage columns, load_log, advisory lock.

A partition of a raw table is a Postgres partition of its own. A load builds the new partition
as a fresh table, streams every file of the partition into it with COPY, then swaps it in for the
old one and records the files in `audit.load_log`, all in one transaction: a failure commits
nothing and leaves every other partition untouched; a re-run replaces, never duplicates.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from elt import config, warehouse
from elt.readers import CsvStream, FileError, open_stream
from elt.sources import Source, Table, get_source

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_row", "_partition_date", "_loaded_at")
LINEAGE_DDL = (
    "_batch_id bigint not null, _source_file text not null, _source_row bigint not null, "
    "_partition_date date not null, _loaded_at timestamptz not null"
)


class LoadError(Exception):
    """A load failed; the message names the file and the problem. Nothing was committed."""


@dataclass
class FileLoad:
    path: str
    sha256: str
    rows: int
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class TableLoad:
    """What one load of a table partition did."""

    source: str
    table: str
    partition_date: date
    batch_id: int | None
    files: list[FileLoad]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def raw_table_ddl(source: Source, table: Table) -> sql.Composed:
    """The raw table: every business column text, lineage columns; keyed tables have a primary key,
    the others are list-partitioned by partition date."""
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in table.columns)
    layout = (
        sql.SQL(", primary key ({}))").format(sql.SQL(", ").join(map(sql.Identifier, table.key)))
        if table.key
        else sql.SQL(") partition by list (_partition_date)")
    )
    return (
        sql.SQL("create table if not exists {}.{} ({}, {}").format(
            sql.Identifier(source.schema), sql.Identifier(table.name), columns, sql.SQL(LINEAGE_DDL)
        )
        + layout
    )


def partition_dir(source: str, partition_date: date, landing: Path | None = None) -> Path:
    return (landing or config.landing_dir()) / source / partition_date.isoformat()


def landed_files(source: Source, partition_date: date, landing: Path | None = None) -> dict[str, list[Path]]:
    """The partition's files grouped by table; files no contract claims are logged and skipped."""
    folder = partition_dir(source.name, partition_date, landing)
    grouped: dict[str, list[Path]] = {table.name: [] for table in source.tables}
    if not folder.is_dir():
        return grouped
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        table = source.table_for(path.name)
        if table is None:
            log.warning("%s: no table of source %s takes this file; skipped", path, source.name)
            continue
        grouped[table.name].append(path)
    return grouped


def _lineage_path(path: Path, landing: Path) -> str:
    try:
        return str(path.relative_to(landing))
    except ValueError:
        return str(path)


def _check_columns(stream: CsvStream, table: Table, path: str) -> None:
    missing = [c for c in table.required if c not in stream.columns]
    if missing:
        raise FileError(f"{path}: missing required column(s) {', '.join(missing)}; found {', '.join(stream.columns)}")
    duplicated = sorted({c for c in stream.columns if stream.columns.count(c) > 1})
    if duplicated:
        raise FileError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the header")
    if stream.extra:
        log.warning(
            "%s: extra column(s) %s are not in the contract of %s; not loaded",
            path,
            ", ".join(stream.extra),
            table.name,
        )


def _copy_error(exc: psycopg.Error, path: str, stream: CsvStream) -> FileError:
    """Turn a COPY error into one naming the file's line (CSV) or record (Parquet)."""
    message = exc.diag.message_primary or str(exc)
    match = re.search(r"line (\d+)", exc.diag.context or "")
    if match:
        number = int(match.group(1)) + stream.first_line - 1
        where = "line" if stream.first_line > 1 else "record"
        return FileError(f"{path}: {where} {number}: {message}")
    return FileError(f"{path}: {message}")


class _PartitionSwap:
    """Builds a new partition table, fills it, and swaps it in for the old one (tables without a key)."""

    def __init__(self, conn: psycopg.Connection, source: Source, table: Table, partition_date: date, batch_id: int):
        self.conn, self.source, self.table, self.day, self.batch_id = conn, source, table, partition_date, batch_id
        stamp = partition_date.strftime("%Y%m%d")
        self.parent = sql.Identifier(source.schema, table.name)
        self.partition_name = f"{table.name}_p{stamp}"
        self.new_schema, self.new_name = source.schema, f"{table.name}_p{stamp}_b{batch_id}"

    @property
    def new(self) -> sql.Identifier:
        return sql.Identifier(self.new_schema, self.new_name)

    @property
    def seq_name(self) -> str:
        """The row-number sequence, as text for nextval() and setval()."""
        return f"{self.new_schema}.{self.new_name}_row"

    @property
    def seq(self) -> sql.Identifier:
        return sql.Identifier(self.new_schema, f"{self.new_name}_row")

    def _create_table(self) -> None:
        self.conn.execute(
            sql.SQL(
                "create table {new} (like {parent} including defaults, check (_partition_date = {day}::date))"
            ).format(new=self.new, parent=self.parent, day=sql.Literal(self.day.isoformat()))
        )

    def create(self, loaded_at: datetime) -> None:
        """The new table, with lineage defaults so that COPY fills them (the source file is set per file)."""
        execute = self.conn.execute
        execute(sql.SQL("create sequence {} cache 10000").format(self.seq))
        self._create_table()
        # owned by the new table: it goes with it (the temporary table of a keyed load at commit)
        execute(sql.SQL("alter sequence {} owned by {}.{}").format(self.seq, self.new, sql.Identifier("_source_row")))
        execute(
            sql.SQL(
                "alter table {new} alter _batch_id set default {batch}, "
                "alter _partition_date set default {day}::date, "
                "alter _loaded_at set default {loaded_at}, "
                "alter _source_row set default nextval({seq})"
            ).format(
                new=self.new,
                batch=sql.Literal(self.batch_id),
                day=sql.Literal(self.day.isoformat()),
                loaded_at=sql.Literal(loaded_at),
                seq=sql.Literal(self.seq_name),
            )
        )

    def copy_file(self, stream: CsvStream, lineage_path: str) -> int:
        execute = self.conn.execute
        execute(sql.SQL("alter table {} alter _source_file set default {}").format(self.new, sql.Literal(lineage_path)))
        execute("select setval(%s, %s, false)", (self.seq_name, stream.first_line))
        statement = sql.SQL("copy {} ({}) from stdin with (format csv, encoding 'UTF8', freeze true)").format(
            self.new, sql.SQL(", ").join(map(sql.Identifier, stream.columns))
        )
        with self.conn.cursor() as cur:
            with cur.copy(statement) as copy:
                for chunk in stream.chunks:
                    copy.write(chunk)
            return cur.rowcount

    def publish(self) -> None:
        """Swap the new table in as the partition."""
        execute = self.conn.execute
        partition = sql.Identifier(self.source.schema, self.partition_name)
        execute(sql.SQL("drop table if exists {}").format(partition))
        execute(
            sql.SQL(
                "alter table {new} alter _batch_id drop default, alter _partition_date drop default, "
                "alter _loaded_at drop default, alter _source_row drop default, alter _source_file drop default"
            ).format(new=self.new)
        )
        execute(sql.SQL("drop sequence {}").format(self.seq))
        execute(sql.SQL("alter table {} rename to {}").format(self.new, sql.Identifier(self.partition_name)))
        execute(
            sql.SQL("alter table {} attach partition {} for values in ({})").format(
                self.parent, partition, sql.Literal(self.day.isoformat())
            )
        )


class _KeyedUpsert(_PartitionSwap):
    """Fills a temporary table, then upserts it into the raw table by key (tables with a key).

    A row only replaces a stored row from the same or an earlier partition, so snapshots that
    arrive (or are re-run) out of order never overwrite newer data; within a partition the last
    row of a key wins.
    """

    def __init__(self, conn: psycopg.Connection, source: Source, table: Table, partition_date: date, batch_id: int):
        super().__init__(conn, source, table, partition_date, batch_id)
        self.new_schema = "pg_temp"

    def _create_table(self) -> None:
        self.conn.execute(
            sql.SQL("create temp table {new} (like {parent} including defaults) on commit drop").format(
                new=sql.Identifier(self.new_name), parent=self.parent
            )
        )
        for key in self.table.key:  # let rows with an empty key in, so that publish() can name their line
            self.conn.execute(sql.SQL("alter table {} alter {} drop not null").format(self.new, sql.Identifier(key)))

    def publish(self) -> None:
        keys = sql.SQL(", ").join(map(sql.Identifier, self.table.key))
        empty = sql.SQL(" or ").join(
            sql.SQL("coalesce(btrim({}), '') = ''").format(sql.Identifier(k)) for k in self.table.key
        )
        missing = self.conn.execute(
            sql.SQL("select _source_file, _source_row from {} where {} order by 1, 2 limit 1").format(self.new, empty)
        ).fetchone()
        if missing:
            raise FileError(f"{missing[0]}: line {missing[1]}: empty key ({', '.join(self.table.key)})")
        columns = [*self.table.columns, *LINEAGE_COLUMNS]
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        excluded = sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in columns)
        stored_values, new_values = (
            sql.SQL(", ").join(sql.SQL("{}.{}").format(alias, sql.Identifier(c)) for c in self.table.columns)
            for alias in (self.parent, sql.SQL("excluded"))
        )
        # A row replaces the stored version of its key only when it is as new and says something new:
        # an unchanged row sent again (a later snapshot, a re-run) keeps the partition it was first seen in.
        cursor = self.conn.execute(
            sql.SQL(
                "insert into {parent} ({names}) select distinct on ({keys}) {names} from {new}"
                " order by {keys}, _source_file desc, _source_row desc"
                " on conflict ({keys}) do update set ({names}) = row({excluded})"
                " where {parent}._partition_date <= excluded._partition_date"
                " and row({stored_values}) is distinct from row({new_values})"
            ).format(
                parent=self.parent,
                names=names,
                keys=keys,
                new=self.new,
                excluded=excluded,
                stored_values=stored_values,
                new_values=new_values,
            )
        )
        log.info(
            "%s.%s: %s rows upserted by key (%s)",
            self.source.schema,
            self.table.name,
            f"{cursor.rowcount:,}",
            ", ".join(self.table.key),
        )


def partition_lock(conn: psycopg.Connection, schema: str, table: str, partition_date: date) -> None:
    """Serialise work on one table partition across sessions (released at commit or rollback)."""
    conn.execute(
        "select pg_advisory_xact_lock(hashtext(%s), %s)",
        (f"{schema}.{table}", int(partition_date.strftime("%Y%m%d"))),
    )


def _log_rows(conn: psycopg.Connection, rows: list[tuple]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.load_log (batch_id, source, table_name, partition_date, file_path, file_sha256,"
            " rows_loaded, started_at, finished_at, status, error)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s, %s)",
            rows,
        )


def load_table(
    conn: psycopg.Connection, source: Source, table: Table, partition_date: date, files: list[Path], landing: Path
) -> TableLoad:
    """Replace one table partition with the content of `files`, in one transaction."""
    batch_id = conn.execute("select nextval('audit.batch_id_seq')").fetchone()[0]
    started = conn.execute("select clock_timestamp()").fetchone()[0]
    conn.commit()
    if not files:
        log.info("%s.%s %s: no files landed; nothing loaded", source.schema, table.name, partition_date)
        _log_rows(conn, [(batch_id, source.name, table.name, partition_date, None, None, 0, started, "no_files", None)])
        conn.commit()
        return TableLoad(source.name, table.name, partition_date, batch_id, [])
    loads: list[FileLoad] = []
    current = ""
    try:
        with conn.transaction():
            partition_lock(conn, source.schema, table.name, partition_date)
            target = (_KeyedUpsert if table.key else _PartitionSwap)(conn, source, table, partition_date, batch_id)
            target.create(loaded_at=started)
            for path in files:
                current = _lineage_path(path, landing)
                clock = time.monotonic()
                stream = open_stream(path, set(table.columns))
                _check_columns(stream, table, current)
                try:
                    rows = target.copy_file(stream, current)
                except psycopg.errors.DataError as exc:
                    raise _copy_error(exc, current, stream) from None
                if rows == 0:
                    raise FileError(f"{current}: no data rows")
                seconds = time.monotonic() - clock
                log.info(
                    "%s: %s rows into %s.%s in %.1f s (%.0f rows/s)",
                    current,
                    f"{rows:,}",
                    source.schema,
                    table.name,
                    seconds,
                    rows / max(seconds, 1e-9),
                )
                loads.append(FileLoad(current, stream.sha256.hexdigest(), rows, stream.extra))
            target.publish()
            _log_rows(
                conn,
                [
                    (
                        batch_id,
                        source.name,
                        table.name,
                        partition_date,
                        f.path,
                        f.sha256,
                        f.rows,
                        started,
                        "loaded",
                        None,
                    )
                    for f in loads
                ],
            )
    except (FileError, psycopg.Error) as exc:
        message = str(exc).replace(str(landing) + "/", "")
        if not any(message.startswith(_lineage_path(path, landing)) for path in files):
            message = f"{current}: {message}"
        _log_rows(
            conn, [(batch_id, source.name, table.name, partition_date, current, None, 0, started, "failed", message)]
        )
        conn.commit()
        raise LoadError(message) from None
    return TableLoad(source.name, table.name, partition_date, batch_id, loads)


def load_partition(
    source_name: str, partition_date: date, landing: Path | None = None, params: warehouse.ServerParams | None = None
) -> list[TableLoad]:
    """Load every table of a source for one partition date; the first failing table raises LoadError."""
    source = get_source(source_name)
    landing = landing or config.landing_dir()
    grouped = landed_files(source, partition_date, landing)
    with warehouse.connect(params) as conn:
        return [
            load_table(conn, source, table, partition_date, grouped[table.name], landing) for table in source.tables
        ]
