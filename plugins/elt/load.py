"""COPY loader: one transaction per table and partition, lineage columns, load_log, advisory lock.

A partition of a raw table (no key) is a Postgres partition of its own. A load fills it with COPY and
records the files in `audit.load_log`, all in one transaction: a failure commits nothing and leaves every
other partition untouched; a re-run replaces, never duplicates.

Locks: no load ever takes an ACCESS EXCLUSIVE lock on a raw table itself (the partitioned parent), so a
load never queues the readers of other partitions, and loads of different partitions never deadlock:

- first load of a partition: a standalone table with `check (_partition_date = day)` (so that ATTACH needs
  no scan) is created (`like` the parent: ACCESS SHARE on it), filled with COPY FREEZE and attached
  (SHARE UPDATE EXCLUSIVE on the parent: self-conflicting, so concurrent first loads attach one after the
  other, and it conflicts with no reader or writer);
- reload: the partition is truncated in the transaction and filled again with COPY FREEZE (allowed after a
  TRUNCATE in the same transaction). ACCESS EXCLUSIVE on that partition only: its readers wait for the
  load, the readers of other partitions do not;
- keyed tables (upsert by key through a temporary table): ROW EXCLUSIVE on the table, and rows are
  upserted in key order, so concurrent loads of overlapping keys wait for each other but never deadlock.

The same partition loaded twice at once is serialised by an advisory lock (`partition_lock`). Every loader
connection has a `lock_timeout` (setting ELT_LOCK_TIMEOUT) and an `application_name` that names the table
and partition; a load that cannot get a lock in time fails naming who holds it. `LoadError.transient`
says whether a retry can help (lock timeout, deadlock, lost connection) or not (a bad file).
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
from elt.duplicates import HashedFile, duplicates, hash_file, lock_contents
from elt.landing import (
    NO_TABLE,
    Landed,
    Skipped,
    display_path,
    misplaced_entries,
    name_problem,
    printable,
    scan_partition,
)
from elt.readers import CsvStream, FileError, Wanted, open_stream
from elt.sources import Source, Table, get_source
from elt.streams import encoding_hint

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ("_batch_id", "_source_file", "_source_row", "_partition_date", "_loaded_at")
LINEAGE_DDL = (
    "_batch_id bigint not null, _source_file text not null, _source_row bigint not null, "
    "_partition_date date not null, _loaded_at timestamptz not null"
)
DEFAULT_LOCK_TIMEOUT = "60s"

# Errors a retry can cure: the lock or the server was busy or away. Everything else (a bad file, a missing
# column, a failed check, a wrong password) gives the same error again.
TRANSIENT_SQLSTATES = {
    "55P03": "lock timeout",
    "40P01": "deadlock",
    "40001": "serialization failure",
    "57P01": "server shutdown",
    "57P02": "server crash",
    "57P03": "server not accepting connections yet",
    "53300": "too many connections",
}


class LoadError(Exception):
    """A load failed; the message names the file (or the table partition) and the problem. Nothing was committed.

    `transient` is True when a retry can succeed (lock timeout, deadlock, serialization failure, lost
    connection, server shutdown); False when the same input gives the same error again.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self):  # keep `transient` when pickled (process pools, Airflow)
        return type(self), (str(self), self.transient)


def is_transient(exc: BaseException) -> bool:
    """True when a retry can cure `exc`: lock timeout (55P03), deadlock (40P01), serialization failure (40001),
    a lost or refused connection, a server shutting down or starting (psycopg 3, psycopg2 or SQLAlchemy errors).

    Errors that carry a `transient` flag (LoadError, QualityError) keep theirs. psycopg's OperationalError
    also covers deterministic errors (a wrong password, a program limit): only the ones above count.
    """
    flag = getattr(exc, "transient", None)
    if isinstance(flag, bool):
        return flag
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    if isinstance(orig, BaseException) and orig is not exc:
        return is_transient(orig)
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if state:
        return state in TRANSIENT_SQLSTATES or state.startswith("08")
    # no SQLSTATE: the client's own error; an OperationalError then means no (more) connection
    return any(cls.__name__ == "OperationalError" for cls in type(exc).__mro__)


@dataclass
class FileLoad:
    path: str
    sha256: str
    rows: int
    extra_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileNotLoaded:
    """A landed entry that a load did not load: status `skipped` or `duplicate`, and why."""

    path: str
    status: str
    reason: str
    sha256: str | None = None


@dataclass
class TableLoad:
    """What one load of a table partition did."""

    source: str
    table: str
    partition_date: date
    batch_id: int | None
    files: list[FileLoad]
    not_loaded: list[FileNotLoaded] = field(default_factory=list)

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


def partition_table_name(table: Table, partition_date: date) -> str:
    """The name of a table's partition for one day (tables without a key)."""
    return f"{table.name}_p{partition_date.strftime('%Y%m%d')}"


def landed_files(source: Source, partition_date: date, landing: Path | None = None) -> Landed:
    """The partition's data files grouped by table, and the entries that are not loaded (temporary and hidden
    files, links, folders, names no table takes), each logged as a warning."""
    landing = landing or config.landing_dir()
    return scan_partition(source, partition_dir(source.name, partition_date, landing), landing)


def _lineage_path(path: Path, landing: Path) -> str:
    return display_path(path, landing)


DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
MAX_COLUMNS = 1600  # Postgres's limit per table


def _column_list(names: list[str]) -> str:
    return ", ".join(name if name else "(unnamed)" for name in names)


def _check_columns(stream: CsvStream, table: Table, path: str) -> None:
    """Fail on a missing or repeated contract column, or more columns than a table can hold."""
    missing = [c for c in table.required if c not in stream.columns]
    if missing:
        found = _column_list(stream.columns + (stream.extra if stream.selected else []))
        hint = ""
        written = stream.written or stream.columns
        if len(written) == 1:
            used = [name for char, name in DELIMITERS.items() if char in written[0]]
            if used:
                hint = f" (the header has no comma but {used[0]}: the delimiter must be a comma)"
        raise FileError(f"{path}: missing required column(s) {', '.join(missing)}; found {found[:500]}{hint}")
    if stream.extra and len(stream.columns) >= MAX_COLUMNS:  # they go through a table of all the file's columns
        raise FileError(f"{path}: {len(stream.columns):,} columns, more than a table can hold ({MAX_COLUMNS - 1:,})")
    duplicated = sorted({c for c in stream.columns if c in table.columns and stream.columns.count(c) > 1})
    if duplicated:
        raise FileError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the header")


def _extra_note(stream: CsvStream, table: Table, path: str) -> str | None:
    """Say (and return) which extra columns are not loaded; after the copy (a JSON file's keys are known then)."""
    if not stream.extra:
        return None
    note = f"extra column(s) {_column_list(stream.extra)[:500]}: not in the contract of {table.name}, not loaded"
    log.warning("%s: %s", path, note)
    return note


def _explain(message: str, context: str, stream: CsvStream) -> str:
    """COPY's error in the words of someone reading the file."""
    fields = len(stream.columns)
    if message.startswith("missing data for column"):
        if context.rstrip().endswith(': ""'):
            return "a blank line (blank lines are ignored only at the end of a file): remove it"
        column = re.search(r'column "([^"]*)"', message)
        name = column.group(1) if column else "?"
        positional = re.fullmatch(r"c(\d+)", name)
        if stream.extra and positional and int(positional.group(1)) <= fields:  # the temporary table's c1..cN
            number = int(positional.group(1))
            name = stream.columns[number - 1] or f"(unnamed column {number})"
        return f"a short row: fewer fields than the header's {fields} (nothing for column {name})"
    if message.startswith("extra data after last expected column"):
        return f"a long row: more fields than the header's {fields}"
    if message.startswith('invalid byte sequence for encoding "UTF8"'):
        found = message.rsplit(":", 1)[-1].strip()
        if found == "0x00":
            return "a NUL byte (0x00): not text"
        raw = stream.not_utf8() if stream.not_utf8 else bytes.fromhex(found.replace("0x", "").replace(" ", ""))
        return f"not valid UTF-8 (bytes {found}){encoding_hint(raw)}: save the file as UTF-8"
    if message.startswith(("unquoted carriage return found in data", "unquoted newline found in data")):
        return (
            "mixed line endings: this line ends differently from the first one (\\n, \\r\\n or \\r); use one"
            " kind, or quote values that hold line breaks"
        )
    if message.startswith("unterminated CSV quoted field"):
        return 'a quoted field is never closed (a " without its pair)'
    return message


def _copy_error(exc: psycopg.Error, path: str, stream: CsvStream) -> FileError:
    """Turn a COPY error into one naming the file's line (CSV) or record (Parquet)."""
    message = exc.diag.message_primary or str(exc)
    context = exc.diag.context or ""
    problem = _explain(message, context, stream)
    match = re.search(r"line (\d+)", context)
    if match:
        number = int(match.group(1)) + stream.first_line - 1
        where = "line" if stream.first_line > 1 else "record"
        return FileError(f"{path}: {where} {number:,}: {problem}")
    return FileError(f"{path}: {problem}")


class _Target:
    """Where a load's rows go. The lineage columns are filled by column defaults, so COPY does no per-row work."""

    # the relations a load locks, and the strongest mode it takes on them (for naming who blocks it)
    parent_mode = "AccessShareLock"

    def __init__(self, conn: psycopg.Connection, source: Source, table: Table, partition_date: date, batch_id: int):
        self.conn, self.source, self.table, self.day, self.batch_id = conn, source, table, partition_date, batch_id
        self.parent = sql.Identifier(source.schema, table.name)
        self.seq_schema = source.schema
        self.seq_base = f"{partition_table_name(table, partition_date)}_b{batch_id}_row"

    @property
    def target(self) -> sql.Identifier:
        """The table COPY writes into."""
        raise NotImplementedError

    @property
    def seq_name(self) -> str:
        """The row-number sequence, as text for nextval() and setval()."""
        return f"{self.seq_schema}.{self.seq_base}"

    @property
    def seq(self) -> sql.Identifier:
        return sql.Identifier(self.seq_schema, self.seq_base)

    def prepare(self) -> None:
        """Make the target table exist and be empty, in this transaction (so that COPY FREEZE is allowed)."""
        raise NotImplementedError

    def create(self, loaded_at: datetime) -> None:
        """The empty target, with lineage defaults so that COPY fills them (the source file is set per file)."""
        self.prepare()
        execute = self.conn.execute
        execute(sql.SQL("create sequence {} cache 10000").format(self.seq))
        execute(
            sql.SQL(
                "alter table {target} alter _batch_id set default {batch}, "
                "alter _partition_date set default {day}::date, "
                "alter _loaded_at set default {loaded_at}, "
                "alter _source_row set default nextval({seq})"
            ).format(
                target=self.target,
                batch=sql.Literal(self.batch_id),
                day=sql.Literal(self.day.isoformat()),
                loaded_at=sql.Literal(loaded_at),
                seq=sql.Literal(self.seq_name),
            )
        )

    def copy_file(self, stream: CsvStream, lineage_path: str) -> int:
        """COPY one file's rows in. A file whose columns are all in the contract goes straight into the target;
        one with extra columns goes through a temporary table of all its columns, so that Postgres parses both
        alike (a short or long row, a blank line, mixed line ends fail the same way)."""
        execute = self.conn.execute
        execute(
            sql.SQL("alter table {} alter _source_file set default {}").format(self.target, sql.Literal(lineage_path))
        )
        if not stream.row_numbers:  # the rows are numbered by the sequence, from the file's first data line
            execute("select setval(%s, %s, false)", (self.seq_name, stream.first_line))
        if stream.extra and not stream.selected:
            return self._copy_through_temp(stream)
        columns = [*stream.columns, "_source_row"] if stream.row_numbers else stream.columns
        statement = sql.SQL("copy {} ({}) from stdin with (format csv, encoding 'UTF8', freeze true)").format(
            self.target, sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        return self._copy(statement, stream)

    def _copy(self, statement: sql.Composable, stream: CsvStream) -> int:
        with self.conn.cursor() as cur:
            with cur.copy(statement) as copy:
                for chunk in stream.chunks:
                    copy.write(chunk)
            return cur.rowcount

    def _copy_through_temp(self, stream: CsvStream) -> int:
        """COPY every column of the file into a temporary table (columns c1..cN: no name from the file becomes an
        identifier), then insert the contract's columns, with their row numbers, into the target."""
        temp = sql.Identifier(f"elt_file_b{self.batch_id}")
        positional = [sql.Identifier(f"c{i}") for i in range(1, len(stream.columns) + 1)]
        kept = [(name, positional[i]) for i, name in enumerate(stream.columns) if name in self.table.columns]
        execute = self.conn.execute
        execute(
            sql.SQL("create temp table {} ({}, _source_row bigint default nextval({})) on commit drop").format(
                temp, sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in positional), sql.Literal(self.seq_name)
            )
        )
        statement = sql.SQL("copy {} ({}) from stdin with (format csv, encoding 'UTF8')").format(
            temp, sql.SQL(", ").join(positional)
        )
        rows = self._copy(statement, stream)
        execute(
            sql.SQL("insert into {} ({}, _source_row) select {}, _source_row from {}").format(
                self.target,
                sql.SQL(", ").join(sql.Identifier(name) for name, _ in kept),
                sql.SQL(", ").join(column for _, column in kept),
                temp,
            )
        )
        execute(sql.SQL("drop table {}").format(temp))
        return rows

    def drop_defaults(self) -> None:
        self.conn.execute(
            sql.SQL(
                "alter table {target} alter _batch_id drop default, alter _partition_date drop default, "
                "alter _loaded_at drop default, alter _source_row drop default, alter _source_file drop default"
            ).format(target=self.target)
        )
        self.conn.execute(sql.SQL("drop sequence {}").format(self.seq))

    def publish(self) -> None:
        raise NotImplementedError

    @property
    def analyzed(self) -> sql.Identifier:
        """The table whose planner statistics the load renews (what queries of the loaded rows read)."""
        return self.target

    def analyze(self) -> None:
        """Renew the loaded table's statistics in the load's transaction: the next task reads the rows at once, and
        autovacuum's ANALYZE comes seconds to minutes later (in the bench, a dbt join planned on freshly loaded
        tables without statistics took 133 s instead of seconds)."""
        self.conn.execute(sql.SQL("analyze {}").format(self.analyzed))

    def locked_relations(self) -> dict[str, str]:
        """Relation name -> the strongest lock mode the load needs on it."""
        return {f"{self.source.schema}.{self.table.name}": self.parent_mode}


class _PartitionLoad(_Target):
    """Fills a table's partition for one day (tables without a key): a new table attached at the end, or the
    existing partition truncated and filled again. Never an ACCESS EXCLUSIVE lock on the parent."""

    parent_mode = "ShareUpdateExclusiveLock"  # ATTACH PARTITION

    def __init__(self, conn: psycopg.Connection, source: Source, table: Table, partition_date: date, batch_id: int):
        super().__init__(conn, source, table, partition_date, batch_id)
        self.partition_name = partition_table_name(table, partition_date)
        self.attached = False

    @property
    def target(self) -> sql.Identifier:
        return sql.Identifier(self.source.schema, self.partition_name)

    def _is_attached(self) -> bool:
        return self.conn.execute(
            "select exists (select from pg_inherits where inhrelid = to_regclass(%s) and inhparent = to_regclass(%s))",
            (f"{self.source.schema}.{self.partition_name}", f"{self.source.schema}.{self.table.name}"),
        ).fetchone()[0]

    def prepare(self) -> None:
        self.attached = self._is_attached()
        if self.attached:
            # ACCESS EXCLUSIVE on this partition only; COPY FREEZE may follow a TRUNCATE of the same transaction
            self.conn.execute(sql.SQL("truncate only {}").format(self.target))
            return
        # a table of that name that is not a partition cannot hold loaded data (loads are atomic): replace it
        self.conn.execute(sql.SQL("drop table if exists {}").format(self.target))
        self.conn.execute(
            sql.SQL(
                "create table {target} (like {parent} including defaults, check (_partition_date = {day}::date))"
            ).format(target=self.target, parent=self.parent, day=sql.Literal(self.day.isoformat()))
        )

    def publish(self) -> None:
        """Drop the load's defaults; a new partition is attached (SHARE UPDATE EXCLUSIVE on the parent, no scan:
        its check constraint proves the partition bound)."""
        self.drop_defaults()
        if not self.attached:
            self.conn.execute(
                sql.SQL("alter table {} attach partition {} for values in ({})").format(
                    self.parent, self.target, sql.Literal(self.day.isoformat())
                )
            )

    def locked_relations(self) -> dict[str, str]:
        return {
            **super().locked_relations(),
            f"{self.source.schema}.{self.partition_name}": "AccessExclusiveLock",  # TRUNCATE
        }


class _KeyedUpsert(_Target):
    """Fills a temporary table, then upserts it into the raw table by key (tables with a key).

    A row only replaces a stored row from the same or an earlier partition, so snapshots that
    arrive (or are re-run) out of order never overwrite newer data; within a partition the last
    row of a key wins. Rows are upserted in key order: concurrent loads lock the rows they share
    in the same order, so one waits for the other but they never deadlock.
    """

    parent_mode = "RowExclusiveLock"

    def __init__(self, conn: psycopg.Connection, source: Source, table: Table, partition_date: date, batch_id: int):
        super().__init__(conn, source, table, partition_date, batch_id)
        self.seq_schema = "pg_temp"
        self.temp_name = f"{partition_table_name(table, partition_date)}_b{batch_id}"

    @property
    def target(self) -> sql.Identifier:
        return sql.Identifier("pg_temp", self.temp_name)

    @property
    def analyzed(self) -> sql.Identifier:
        return self.parent

    def prepare(self) -> None:
        self.conn.execute(
            sql.SQL("create temp table {new} (like {parent} including defaults) on commit drop").format(
                new=sql.Identifier(self.temp_name), parent=self.parent
            )
        )
        for key in self.table.key:  # let rows with an empty key in, so that publish() can name their line
            self.conn.execute(sql.SQL("alter table {} alter {} drop not null").format(self.target, sql.Identifier(key)))

    def create(self, loaded_at: datetime) -> None:
        super().create(loaded_at)
        # owned by the temporary table: the sequence goes with it at commit
        self.conn.execute(
            sql.SQL("alter sequence {} owned by {}.{}").format(self.seq, self.target, sql.Identifier("_source_row"))
        )

    def publish(self) -> None:
        keys = sql.SQL(", ").join(map(sql.Identifier, self.table.key))
        empty = sql.SQL(" or ").join(
            sql.SQL("coalesce(btrim({}), '') = ''").format(sql.Identifier(k)) for k in self.table.key
        )
        missing = self.conn.execute(
            sql.SQL("select _source_file, _source_row from {} where {} order by 1, 2 limit 1").format(
                self.target, empty
            )
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
        # DISTINCT ON sorts by key, and the rows are inserted (and their index entries and conflicting rows
        # locked) in that order: two loads sharing keys take their row locks in the same order.
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
                new=self.target,
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
    conn.execute("select pg_advisory_xact_lock(hashtext(%s), %s)", _advisory_key(schema, table, partition_date))


def _advisory_key(schema: str, table: str, partition_date: date) -> tuple[str, int]:
    return f"{schema}.{table}", int(partition_date.strftime("%Y%m%d"))


def lock_timeout() -> str:
    """How long a loader statement waits for a lock before it fails (Postgres `lock_timeout` syntax)."""
    return config.setting("ELT_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT) or DEFAULT_LOCK_TIMEOUT


def application_name(source: Source, table: Table, partition_date: date) -> str:
    """What a loader connection says it is in pg_stat_activity (at most 63 bytes)."""
    return f"elt load {source.schema}.{table.name} {partition_date.isoformat()}"[:63]


def connect_loader(params: warehouse.ServerParams | None, name: str) -> psycopg.Connection:
    """A loader connection: `lock_timeout` from ELT_LOCK_TIMEOUT, UTC, and an application_name saying what it does.

    A connection that cannot be made raises LoadError (transient when the server is away or busy)."""
    try:
        conn = warehouse.connect(params, application_name=name[:63])
    except psycopg.Error as exc:
        raise LoadError(f"{name}: cannot connect to the warehouse: {exc}", transient=is_transient(exc)) from None
    timeout = lock_timeout()
    try:
        conn.execute("select set_config('lock_timeout', %s, false), set_config('TimeZone', 'UTC', false)", (timeout,))
        conn.commit()
    except psycopg.errors.DataError as exc:  # invalid_parameter_value
        conn.close()
        message = f"ELT_LOCK_TIMEOUT={timeout!r} is not a valid lock_timeout: {exc.diag.message_primary}"
        raise LoadError(message) from None
    except psycopg.Error as exc:
        conn.close()
        raise LoadError(f"{name}: cannot set up the connection: {exc}", transient=is_transient(exc)) from None
    return conn


def _log_rows(conn: psycopg.Connection, rows: list[tuple]) -> None:
    """Insert load_log rows (batch_id, source, table, day, path, sha256, rows, started_at, status, error); paths
    and errors are made printable (a file name that is not UTF-8 must not fail the insert)."""
    rows = [(*row[:4], _text(row[4]), *row[5:9], _text(row[9])) for row in rows]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into audit.load_log (batch_id, source, table_name, partition_date, file_path, file_sha256,"
            " rows_loaded, started_at, finished_at, status, error)"
            " values (coalesce(%s, nextval('audit.batch_id_seq')), %s, %s, %s, %s, %s, %s,"
            " coalesce(%s, clock_timestamp()), clock_timestamp(), %s, %s)",
            rows,
        )


def _text(value: str | None) -> str | None:
    return None if value is None else printable(value)


# which held lock modes block a wanted one (Postgres table-level lock conflicts)
_STRONGER = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
_CONFLICTS = {
    "AccessShareLock": {"AccessExclusiveLock"},
    "RowExclusiveLock": set(_STRONGER),
    "ShareUpdateExclusiveLock": {"ShareUpdateExclusiveLock", *_STRONGER},
    "AccessExclusiveLock": {
        "AccessShareLock",
        "RowShareLock",
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        *_STRONGER,
    },
}


def lock_holders(
    conn: psycopg.Connection, source: Source, table: Table, partition_date: date, relations: dict[str, str]
) -> list[str]:
    """Who holds (or queues ahead for) a lock that a load of this table partition needs, one line each:
    pid, application_name, state and for how long. `relations` maps relation name -> lock mode wanted.
    Run it after the rollback (the load's own locks are gone)."""
    key, day = _advisory_key(source.schema, table.name, partition_date)
    names = list(relations)
    rows = conn.execute(
        "select l.pid, a.application_name, a.state, l.mode, l.granted, l.locktype, l.relation::regclass::text,"
        " extract(epoch from now() - coalesce(a.state_change, a.backend_start)),"
        " extract(epoch from now() - a.xact_start)"
        " from pg_locks l join pg_stat_activity a on a.pid = l.pid"
        " where l.pid <> pg_backend_pid()"
        " and l.database = (select oid from pg_database where datname = current_database())"
        " and ((l.locktype = 'advisory' and l.classid = hashtext(%s)::oid and l.objid = %s::bigint::oid"
        "       and l.objsubid = 2)"
        "  or (l.locktype = 'relation'"
        "      and l.relation = any(array(select to_regclass(n)::oid from unnest(%s::text[]) as n))))"
        " order by l.granted desc, a.xact_start nulls last, l.pid",
        (key, day, names),
    ).fetchall()
    lines = []
    for pid, app, state, mode, granted, locktype, relation, state_secs, xact_secs in rows:
        if locktype == "advisory":
            what = f"the advisory lock of {key} {partition_date}"
        else:
            wanted = relations.get(relation) or relations.get(relation.split(".")[-1], "AccessExclusiveLock")
            conflicting = mode in _CONFLICTS.get(wanted, _CONFLICTS["AccessExclusiveLock"])
            writer = table.key and mode == "RowExclusiveLock" and granted  # may hold row locks on shared keys
            if not (conflicting or writer):
                continue
            what = relation
        since = f"{state} for {state_secs:.1f} s" if state else "state unknown"
        if xact_secs is not None:
            since += f", transaction open {xact_secs:.1f} s"
        verb = "holds" if granted else "waits (ahead of us) for"
        lines.append(f"pid {pid} (application_name {app!r}, {since}) {verb} {mode} on {what}")
    return lines


def _failure(
    exc: BaseException, source: Source, table: Table, partition_date: date, landing: Path, files: list[Path], where: str
) -> LoadError:
    """The LoadError for what went wrong: file errors name the file, database errors the table partition and step."""
    partition = f"{source.schema}.{table.name} {partition_date}"
    if isinstance(exc, LoadError):
        return exc
    if isinstance(exc, FileError):
        message = printable(str(exc).replace(str(landing) + "/", ""))
        if not any(message.startswith(_lineage_path(path, landing)) for path in files):
            message = f"{where or partition}: {message}"
        return LoadError(message, transient=False)
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate or ""
        kind = TRANSIENT_SQLSTATES.get(state)
        text = (exc.diag.message_primary if state else None) or str(exc).strip() or type(exc).__name__
        if exc.diag.message_detail:
            text += f" ({exc.diag.message_detail})"
        if state == "55P03":
            text = f"could not get a lock within ELT_LOCK_TIMEOUT={lock_timeout()}: {text}"
        elif kind:
            text = f"{kind}: {text}"
        elif not state and is_transient(exc):
            text = f"connection to the warehouse lost: {text}"
        return LoadError(f"{partition}: {where}: {text}", transient=is_transient(exc))
    return LoadError(printable(f"{partition}: {where}: {type(exc).__name__}: {exc}"), transient=False)


def _usable(conn: psycopg.Connection) -> bool:
    return not conn.closed and not conn.broken


def _rollback(conn: psycopg.Connection) -> None:
    if _usable(conn):
        try:
            conn.rollback()
        except psycopg.Error as exc:
            log.warning("rollback failed (%s); the connection is dropped", exc)


def _record_failure(conn: psycopg.Connection, params: warehouse.ServerParams | None, row: tuple) -> None:
    """Write the load's `failed` row: on its own connection, or a new one if that is gone. Never raises: a
    failure to record must not hide the load's own error."""
    if _usable(conn):
        try:
            _log_rows(conn, [row])
            conn.commit()
            return
        except psycopg.Error as exc:
            log.warning("cannot write the failed load_log row on the load's connection (%s); trying a new one", exc)
            _rollback(conn)
    try:
        with warehouse.connect(params, connect_timeout=10, application_name="elt load: record failure") as other:
            _log_rows(other, [row])
    except psycopg.Error as exc:
        log.error("cannot write the failed row of %s %s %s to audit.load_log: %s", row[1], row[2], row[3], exc)


def _hash(path: Path, shown: str) -> HashedFile:
    problem = name_problem(path)
    if problem:
        raise FileError(f"{shown}: {problem}")
    try:
        return hash_file(path, shown)
    except OSError as exc:
        raise FileError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None


def _log_row(batch_id: int, source: Source, table: Table, day: date, started: datetime, note: FileNotLoaded) -> tuple:
    return (batch_id, source.name, table.name, day, note.path, note.sha256, 0, started, note.status, note.reason)


def load_table(
    conn: psycopg.Connection,
    source: Source,
    table: Table,
    partition_date: date,
    files: list[Path],
    landing: Path,
    params: warehouse.ServerParams | None = None,
    skipped: list[Skipped] | None = None,
) -> TableLoad:
    """Replace one table partition with the content of `files`, in one transaction.

    `skipped` entries (not data files) and files whose content is already loaded (duplicates) get a load_log row
    of their own (status skipped or duplicate) and are not loaded. With no file left to load, the partition keeps
    its rows. Any failure rolls back, writes a `failed` row to audit.load_log (on a new connection if the load's
    is gone; if the server is unreachable the original error is still raised) and raises LoadError."""
    batch_id = started = None
    where, current = "starting", ""
    loads: list[FileLoad] = []
    notes = [FileNotLoaded(display_path(s.path, landing), "skipped", s.reason) for s in skipped or []]
    target: _Target | None = None
    try:
        conn.execute(
            "select set_config('application_name', %s, false)", (application_name(source, table, partition_date),)
        )
        batch_id, started = conn.execute("select nextval('audit.batch_id_seq'), clock_timestamp()").fetchone()
        conn.commit()
        if not files and not notes:
            log.info("%s.%s %s: no files landed; nothing loaded", source.schema, table.name, partition_date)
            _log_rows(
                conn, [(batch_id, source.name, table.name, partition_date, None, None, 0, started, "no_files", None)]
            )
            conn.commit()
            return TableLoad(source.name, table.name, partition_date, batch_id, [])
        hashed = []
        for path in files:
            current = _lineage_path(path, landing)
            where = f"reading {current}"
            hashed.append(_hash(path, current))
        current = ""
        target = (_KeyedUpsert if table.key else _PartitionLoad)(conn, source, table, partition_date, batch_id)
        where = "waiting for the partition's advisory lock (another load or validation of it)"
        partition_lock(conn, source.schema, table.name, partition_date)
        where = "waiting for the content lock of a file (another load of the same file)"
        lock_contents(conn, source.schema, table.name, [f.sha256 for f in hashed])
        where = "looking up files already loaded"
        repeated = duplicates(conn, source.name, table.name, partition_date, hashed, snapshot=table.snapshot)
        for landed in hashed:
            if landed.path in repeated:
                notes.append(FileNotLoaded(landed.shown, "duplicate", repeated[landed.path], landed.sha256))
                log.warning("%s: duplicate: %s", landed.shown, repeated[landed.path])
        to_load = [landed for landed in hashed if landed.path not in repeated]
        if to_load:
            where = "preparing the partition"
            target.create(loaded_at=started)
        for landed in to_load:
            current = landed.shown
            where = f"copying {current}"
            clock = time.monotonic()
            stream = open_stream(landed.path, Wanted(table.columns, table.required, table.sheet))
            _check_columns(stream, table, current)
            try:
                rows = target.copy_file(stream, current)
            except psycopg.errors.DataError as exc:
                raise _copy_error(exc, current, stream) from None
            note = _extra_note(stream, table, current)
            if landed.changed():
                raise LoadError(
                    f"{current}: the file changed while it was being loaded (still being written?); nothing was"
                    " committed: a retry loads it once it is complete",
                    transient=True,
                )
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
            loads.append(FileLoad(current, landed.sha256, rows, stream.extra))
            if note:
                notes.append(FileNotLoaded(current, "loaded", note, landed.sha256))
        current = ""
        if to_load:
            where = "publishing the partition"
            target.publish()
            target.analyze()
        else:
            log.warning(
                "%s.%s %s: no file to load (%s); the partition keeps its rows",
                source.schema,
                table.name,
                partition_date,
                ", ".join(f"{n.path}: {n.status}" for n in notes),
            )
        extra_notes = {n.path: n.reason for n in notes if n.status == "loaded"}
        _log_rows(
            conn,
            [
                (batch_id, source.name, table.name, partition_date, f.path, f.sha256, f.rows, started, "loaded")
                + (extra_notes.get(f.path),)
                for f in loads
            ]
            + [_log_row(batch_id, source, table, partition_date, started, n) for n in notes if n.status != "loaded"],
        )
        where = "committing"
        conn.commit()
    except BaseException as exc:
        error = _failure(exc, source, table, partition_date, landing, files, where)
        _rollback(conn)
        if isinstance(exc, psycopg.errors.LockNotAvailable) and _usable(conn):
            relations = target.locked_relations() if target else {f"{source.schema}.{table.name}": "AccessShareLock"}
            try:
                holders = lock_holders(conn, source, table, partition_date, relations)
                conn.rollback()
            except psycopg.Error as lookup:
                holders = [f"(could not look up the holders: {lookup})"]
            detail = "; ".join(holders) if holders else "whoever held it has let go since"
            error = LoadError(f"{error}; held by: {detail}", transient=True)
        failed = (batch_id, source.name, table.name, partition_date, current or None, None, 0, started, "failed")
        _record_failure(conn, params, (*failed, str(error)))
        if not isinstance(exc, Exception):
            raise  # interrupted (KeyboardInterrupt, task timeout): recorded, and the interruption goes on
        log.error("%s", error)
        raise error from (exc if not isinstance(exc, (FileError, psycopg.Error, LoadError)) else None)
    return TableLoad(
        source.name, table.name, partition_date, batch_id, loads, [n for n in notes if n.status != "loaded"]
    )


def _record_not_loaded(
    conn: psycopg.Connection, source: Source, partition_date: date, landing: Path, entries: list[Skipped]
) -> None:
    """load_log rows (table `(none)`, status skipped) for entries that no table claims."""
    if not entries:
        return
    batch_id, started = conn.execute("select nextval('audit.batch_id_seq'), clock_timestamp()").fetchone()
    _log_rows(
        conn,
        [
            (batch_id, source.name, NO_TABLE, partition_date, display_path(e.path, landing), None, 0, started)
            + ("skipped", e.reason)
            for e in entries
        ],
    )
    conn.commit()


def _scan(source: Source, partition_date: date, landing: Path) -> Landed:
    """The partition's entries; folders of the source that no run loads are warned about (on every run) and the
    one that seems to mean this partition is recorded as skipped."""
    misplaced = misplaced_entries(source, landing)
    for entry in misplaced:
        log.warning("%s", entry.message)
    landed = landed_files(source, partition_date, landing)
    for entry in misplaced:
        if entry.meant == partition_date:
            landed.skipped.append(Skipped(entry.path, NO_TABLE, entry.message.split(": ", 1)[1]))
    return landed


def load_partition(
    source_name: str, partition_date: date, landing: Path | None = None, params: warehouse.ServerParams | None = None
) -> list[TableLoad]:
    """Load every table of a source for one partition date; the first failing table raises LoadError."""
    source = get_source(source_name)
    landing = landing or config.landing_dir()
    try:
        landed = _scan(source, partition_date, landing)
    except OSError as exc:
        folder = display_path(partition_dir(source.name, partition_date, landing), landing)
        landed, problem = None, printable(f"{folder}: cannot list the landing folder: {exc.strerror or exc}")
    with connect_loader(params, f"elt load {source.schema} {partition_date.isoformat()}") as conn:
        if landed is None:
            for table in source.tables:
                failed = (None, source.name, table.name, partition_date, None, None, 0, None, "failed", problem)
                _record_failure(conn, params, failed)
            log.error("%s", problem)
            raise LoadError(problem)
        try:
            _record_not_loaded(conn, source, partition_date, landing, landed.skipped_for(NO_TABLE))
        except psycopg.Error as exc:
            _rollback(conn)
            log.warning("cannot record the entries no table takes in audit.load_log: %s", exc)
        return [
            load_table(
                conn,
                source,
                table,
                partition_date,
                landed.files[table.name],
                landing,
                params,
                skipped=landed.skipped_for(table.name),
            )
            for table in source.tables
        ]
