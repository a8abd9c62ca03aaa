"""Great Expectations runner: validate a raw partition, write every failing row to `audit.dq_exceptions`.

Suites live in `expectations/<schema>.<table>.json` (GX 1.x suite JSON). Every expectation is an
`unexpected_rows_expectation` whose query selects the failing rows of `{batch}`, with a GX severity
(`critical` = error: the row is quarantined by staging; `warning` = warn: recorded only) and
`meta.rule` / `meta.column`. GX validates the batch and builds data docs; the same queries then copy
every failing row (not a sample) into `audit.dq_exceptions` on the server with `INSERT … SELECT`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from psycopg import sql

from elt import config, warehouse
from elt.load import is_transient, partition_lock
from elt.sources import Source, Table, check_identifier, get_source

log = logging.getLogger(__name__)

SEVERITIES = {"critical": "error", "warning": "warn", "info": "warn"}


class QualityError(Exception):
    """A suite could not run, or a partition's error share passed the suite's threshold.

    `transient` is True when a retry can succeed (the database was locked, busy or away); a bad or missing
    suite and an error share over the threshold give the same result again.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self):  # keep `transient` when pickled
        return type(self), (str(self), self.transient)


def _database_error(exc: BaseException) -> BaseException | None:
    """The database driver's error behind `exc` (psycopg, psycopg2 or SQLAlchemy, maybe wrapped by GX), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.split(".")[0] in ("psycopg", "psycopg2", "sqlalchemy"):
            return current
        current = current.__cause__ or current.__context__
    return None


def _classified(exc: Exception, where: str) -> QualityError:
    """A QualityError for anything but a QualityError that stopped a validation: transient when the database
    was locked, busy or away; deterministic otherwise."""
    cause = _database_error(exc)
    if cause is not None:
        text = str(getattr(cause, "orig", None) or cause).strip()
        message = text.splitlines()[0] if text else type(cause).__name__
        return QualityError(f"{where}: validation could not run: {message}", transient=is_transient(cause))
    return QualityError(f"{where}: validation could not run: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Rule:
    name: str
    column: str
    severity: str  # error | warn
    query: str
    message: str


@dataclass(frozen=True)
class Suite:
    name: str
    rules: tuple[Rule, ...]
    error_threshold: float
    definition: dict


@dataclass
class SuiteResult:
    source: str
    table: str
    partition_date: date
    run_id: int
    rows_checked: int
    error_rows: int
    warn_rows: int
    success: bool
    gx_success: bool | None

    @property
    def error_share(self) -> float:
        return self.error_rows / self.rows_checked if self.rows_checked else 0.0


def suite_path(source: Source, table: Table) -> Path:
    return config.EXPECTATIONS_DIR / f"{source.schema}.{table.name}.json"


def load_suite(source: Source, table: Table) -> Suite:
    """Read and check a suite file: every rule names a contract column and a known severity."""
    path = suite_path(source, table)
    try:
        definition = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise QualityError(f"{path}: cannot read suite: {exc}") from None
    rules = []
    for number, expectation in enumerate(definition.get("expectations", []), 1):
        meta = expectation.get("meta", {})
        where = f"{path}: expectation {number}"
        if expectation.get("type") != "unexpected_rows_expectation":
            raise QualityError(f"{where}: only unexpected_rows_expectation is supported, got {expectation.get('type')}")
        column = meta.get("column", "")
        if column not in table.columns:
            raise QualityError(f"{where}: meta.column {column!r} is not a column of {table.name}")
        severity = SEVERITIES.get(expectation.get("severity", "critical"))
        if severity is None:
            raise QualityError(f"{where}: unknown severity {expectation.get('severity')!r}")
        query = expectation["kwargs"]["unexpected_rows_query"]
        if "{batch}" not in query:
            raise QualityError(f"{where}: the query must select from {{batch}}")
        rules.append(
            Rule(
                check_identifier(meta.get("rule", "")),
                column,
                severity,
                query,
                expectation.get("description") or meta["rule"],
            )
        )
    threshold = float(definition.get("meta", {}).get("error_threshold", 0.05))
    return Suite(definition.get("name", path.stem), tuple(rules), threshold, definition)


def _batch_sql(source: Source, table: Table, day: str) -> str:
    """The partition as a query; identifiers come from the contract, `day` is a literal or a placeholder."""
    return f'select * from "{source.schema}"."{table.name}" where _partition_date = {day}'


def _gx_context():
    """An ephemeral GX context whose validation results and data docs are kept on disk.

    Datasources, suites and checkpoints live in memory for one validation, so concurrent runs (other
    sources, other workers) never rewrite a shared project file; each result is a file of its own.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    gx_dir = config.state_dir() / "gx"
    project = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
    )
    project.stores[project.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(gx_dir / "validations")},
    }
    project.data_docs_sites = {
        "local_site": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(config.data_docs_dir()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    return gx.get_context(project_config=project, mode="ephemeral")


def run_gx(source: Source, table: Table, suite: Suite, partition_date: date, params: warehouse.ServerParams) -> bool:
    """Validate the partition with Great Expectations, keep the result and update the data docs; GX's verdict."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core import ExpectationSuite

    context = _gx_context()
    datasource = context.data_sources.add_sql(name="warehouse", connection_string=params.sqlalchemy_url())
    name = f"{source.schema}.{table.name}.{partition_date.isoformat()}"
    asset = datasource.add_query_asset(name=name, query=_batch_sql(source, table, f"'{partition_date.isoformat()}'"))
    definition = {k: v for k, v in suite.definition.items() if k in ("name", "expectations", "meta")}
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=name,
            data=asset.add_batch_definition_whole_table("partition"),
            suite=context.suites.add(ExpectationSuite(**definition)),
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="data_docs")],
            result_format="SUMMARY",
        )
    )
    result = checkpoint.run()
    for run in result.run_results.values():
        for outcome in run.results:
            if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                message = outcome.exception_info["exception_message"]
                raise QualityError(f"{suite.name}: expectation failed to run: {message}")
    return bool(result.success)


def _exceptions_insert(source: Source, table: Table, rule: Rule) -> sql.Composed:
    """INSERT … SELECT of every row the rule selects (column names come from the checked contract)."""
    key = (
        sql.SQL("concat_ws('|', {})").format(sql.SQL(", ").join(sql.Identifier("b", c) for c in table.key))
        if table.key
        else sql.SQL("null")
    )
    batch = f"({_batch_sql(source, table, '%(day)s')}) as batch"
    # `{batch}` is filled the way GX fills it (str.format: write `{{` and `}}` for literal braces)
    rows = sql.SQL(rule.query.replace("%", "%%").format(batch=batch))
    value = sql.SQL("b.{}::text").format(sql.Identifier(rule.column))
    if rule.column in table.personal:  # the evidence keeps the value's shape (its punctuation), not the value
        value = sql.SQL("regexp_replace({}, '[[:alnum:]]', '*', 'g')").format(value)
    head = sql.SQL(
        "insert into audit.dq_exceptions (run_id, source, table_name, partition_date, batch_id, source_file,"
        " source_row, record_key, column_name, rule, severity, bad_value, message, detected_at)"
        " select %(run_id)s, %(source)s, %(table)s, b._partition_date, b._batch_id, b._source_file, b._source_row,"
        " {key}, %(column)s, %(rule)s, %(severity)s, {value}, %(message)s, clock_timestamp() from ("
    ).format(key=key, value=value)
    return head + rows + sql.SQL(") as b")


def validate_table(
    source: Source, table: Table, partition_date: date, params: warehouse.ServerParams | None = None
) -> SuiteResult:
    """Run one table's suite on one partition and replace that partition's exceptions."""
    suite = load_suite(source, table)
    started = time.monotonic()
    params = params or warehouse.warehouse_params()
    gx_success = run_gx(source, table, suite, partition_date, params)
    with warehouse.connect(params) as conn, conn.transaction():
        partition_lock(conn, source.schema, table.name, partition_date)
        counted = conn.execute(
            # the newest batch checked: staging reads a row once a recorded run has seen its batch
            sql.SQL("select count(*), max(_batch_id), clock_timestamp() from {}.{} where _partition_date = %s").format(
                sql.Identifier(source.schema), sql.Identifier(table.name)
            ),
            (partition_date,),
        ).fetchone()
        rows_checked, batch_id, started_at = counted
        run_id = conn.execute(
            "insert into audit.dq_runs (source, table_name, partition_date, batch_id, suite, rows_checked,"
            " error_rows, warn_rows, success, started_at, finished_at)"
            " values (%s, %s, %s, %s, %s, %s, 0, 0, false, %s, %s) returning run_id",
            (source.name, table.name, partition_date, batch_id, suite.name, rows_checked, started_at, started_at),
        ).fetchone()[0]
        conn.execute(
            "delete from audit.dq_exceptions where source = %s and table_name = %s and partition_date = %s",
            (source.name, table.name, partition_date),
        )
        for rule in suite.rules:
            cursor = conn.execute(
                _exceptions_insert(source, table, rule),
                {
                    "run_id": run_id,
                    "source": source.name,
                    "table": table.name,
                    "day": partition_date,
                    "column": rule.column,
                    "rule": rule.name,
                    "severity": rule.severity,
                    "message": rule.message,
                },
            )
            log.info(
                "%s %s: rule %s (%s): %s rows",
                suite.name,
                partition_date,
                rule.name,
                rule.severity,
                f"{cursor.rowcount:,}",
            )
        error_rows, warn_rows = conn.execute(
            "select count(distinct (source_file, source_row)) filter (where severity = 'error'),"
            " count(distinct (source_file, source_row)) filter (where severity = 'warn')"
            " from audit.dq_exceptions where run_id = %s",
            (run_id,),
        ).fetchone()
        share = error_rows / rows_checked if rows_checked else 0.0
        success = share <= suite.error_threshold
        conn.execute(
            "update audit.dq_runs set error_rows = %s, warn_rows = %s, success = %s, finished_at = clock_timestamp()"
            " where run_id = %s",
            (error_rows, warn_rows, success, run_id),
        )
    result = SuiteResult(
        source.name, table.name, partition_date, run_id, rows_checked, error_rows, warn_rows, success, gx_success
    )
    log.info(
        "%s %s: %s rows checked, %s with errors (%.2f%%), %s with warnings, in %.1f s",
        suite.name,
        partition_date,
        f"{rows_checked:,}",
        f"{error_rows:,}",
        100 * share,
        f"{warn_rows:,}",
        time.monotonic() - started,
    )
    return result


def validate_partition(
    source_name: str, partition_date: date, params: warehouse.ServerParams | None = None
) -> list[SuiteResult]:
    """Validate every table of a source for one partition; raise if a suite's error share passes its threshold."""
    source = get_source(source_name)
    results = []
    for table in source.tables:
        try:
            results.append(validate_table(source, table, partition_date, params))
        except QualityError:
            raise
        except Exception as exc:
            raise _classified(exc, f"{source.schema}.{table.name} {partition_date}") from exc
    failed = [r for r in results if not r.success]
    if failed:
        details = "; ".join(
            f"{r.table}: {r.error_rows:,} of {r.rows_checked:,} rows have errors ({100 * r.error_share:.1f}%)"
            for r in failed
        )
        raise QualityError(
            f"{source_name} {partition_date}: error share above the suite threshold: {details}. "
            "See audit.dq_exceptions for every failing row."
        )
    return results
