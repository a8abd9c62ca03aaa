"""Great Expectations runner: validate a raw partition, write every failing row to `audit.dq_exceptions`.

Suites live in `expectations/<schema>.<table>.json` (GX 1.x suite JSON). Every expectation is an
`unexpected_rows_expectation` whose query selects the failing rows of `{batch}`, with a GX severity
(`critical` = error: the row is quarantined by staging; `warning` = warn: recorded only) and
`meta.rule` / `meta.column`. Every query is `select * from {batch} where <condition>`: one pass over the
partition evaluates every rule's condition once per row and copies every failing row (not a sample) into
`audit.dq_exceptions` on the server with `INSERT … SELECT`. GX then judges each expectation on the counts of that
pass (its `unexpected_rows_expectation` verdict: no failing row), keeps the result and builds the data docs.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from elt import config, warehouse
from elt.load import is_transient, partition_lock
from elt.sources import Source, Table, check_identifier, get_source

log = logging.getLogger(__name__)

SEVERITIES = {"critical": "error", "warning": "warn", "info": "warn"}
# The data docs' index lists this many of the newest validation results (every result keeps its page): GX reads each
# listed result to draw the index, which would otherwise cost more with every partition ever validated.
DATA_DOCS_INDEX_LIMIT = 500
# the one shape of a rule's query: its condition is evaluated for every row of the partition in one pass
RULE_QUERY = re.compile(r"\s*select\s+\*\s+from\s+\{batch\}\s+where\s+(?P<condition>.+?)[\s;]*", re.I | re.S)


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
    condition: str  # the WHERE clause of its query; may select from `{batch}` again (a uniqueness rule)
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
        shape = RULE_QUERY.fullmatch(expectation["kwargs"]["unexpected_rows_query"])
        if shape is None:
            raise QualityError(f"{where}: the query must read `select * from {{batch}} where <condition>`")
        rules.append(
            Rule(
                check_identifier(meta.get("rule", "")),
                column,
                severity,
                shape["condition"],
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
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": DATA_DOCS_INDEX_LIMIT,
            },
            # nothing is profiled: without this section, a page's build lists the stored results once, not twice
            "site_section_builders": {"profiling": "None"},
        }
    }
    return gx.get_context(project_config=project, mode="ephemeral")


def run_gx(
    source: Source,
    table: Table,
    suite: Suite,
    partition_date: date,
    failing_rows: dict[str, int],
    build_index: bool = True,
) -> bool:
    """GX's verdict on the partition from the one pass's count of failing rows per rule (an
    `unexpected_rows_expectation` succeeds when its query selects no row); the result is kept and its data docs
    page built, and the index too if `build_index`. GX's own engine would run each rule's query twice more (its
    count and its sample)."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context = _gx_context()
    name = f"{source.schema}.{table.name}.{partition_date.isoformat()}"
    definition = {k: v for k, v in suite.definition.items() if k in ("name", "expectations", "meta")}
    gx_suite = context.suites.add(ExpectationSuite(**definition))
    batch_id = f"warehouse-{name}"
    results = [
        ExpectationValidationResult(
            success=failing_rows[rule.name] == 0,
            expectation_config=expectation.configuration,
            result={"observed_value": failing_rows[rule.name]},
        )
        for rule, expectation in zip(suite.rules, gx_suite.expectations, strict=True)
    ]
    passed = sum(result.success for result in results)
    run_id = RunIdentifier(run_time=datetime.now(UTC))
    batch = {"datasource_name": "warehouse", "data_connector_name": "fluent", "data_asset_name": name}
    validation = ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=gx_suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        meta={
            "active_batch_definition": {**batch, "batch_identifiers": {}},
            "batch_spec": {**batch, "query": _batch_sql(source, table, f"'{partition_date.isoformat()}'")},
            "run_id": run_id.to_json_dict(),
            "validation_time": run_id.run_time.isoformat(),
            "great_expectations_version": gx.__version__,
        },
        batch_id=batch_id,
    )
    suite_key = ExpectationSuiteIdentifier(name=gx_suite.name)
    key = ValidationResultIdentifier(expectation_suite_identifier=suite_key, run_id=run_id, batch_identifier=batch_id)
    context.validation_results_store.store_validation_results(validation, key, suite_key)
    context.build_data_docs(resource_identifiers=[key, suite_key], build_index=build_index)
    return bool(validation.success)


# The one pass keeps each rule's condition in its select list, where Postgres runs a subquery (`in (select …)`: a
# uniqueness or reference rule) as a hashed subplan only when its hash table fits in work_mem, and otherwise once per
# row (a day of 43k orders checked against 171k: minutes instead of a second with the default 4 MB). For the pass's
# transaction.
PASS_WORK_MEM = "256MB"


def use_pass_memory(conn: psycopg.Connection) -> None:
    """Give this transaction the memory the one pass needs for its rules' subqueries (see PASS_WORK_MEM)."""
    conn.execute("select set_config('work_mem', %s, true)", (PASS_WORK_MEM,))


def _partition(source: Source, table: Table) -> str:
    """The partition as the `batch` relation every rule reads (the day is the parameter `%(day)s`)."""
    return f"({_batch_sql(source, table, '%(day)s')}) as batch"


def _condition(rule: Rule, batch: str) -> sql.SQL:
    """The rule's condition with `{batch}` filled the way GX fills it (str.format: `{{` and `}}` are braces)."""
    return sql.SQL(rule.condition.replace("%", "%%").format(batch=batch))


def rule_counts_query(source: Source, table: Table, suite: Suite) -> sql.Composed:
    """One pass over the partition (`%(day)s`) counting each rule's failing rows: the least any validation costs."""
    batch = _partition(source, table)
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) filter (where {})").format(_condition(rule, batch)) for rule in suite.rules
    )
    return sql.SQL("select {} from {}").format(counts, sql.SQL(batch))


def _failing_rows(source: Source, table: Table, suite: Suite) -> sql.Composed:
    """The one pass: a temporary table `dq_failing` of the partition's rows that fail any rule, each with one flag per
    rule (`_dq_hit_<n>`). Every condition is evaluated once per row, in parallel workers: CREATE TABLE AS may scan in
    parallel where INSERT may not, and the `offset 0` subquery keeps the planner from evaluating the conditions again
    in the filter. The day is the parameter `%(day)s`."""
    batch = _partition(source, table)
    flags = [sql.Identifier(f"_dq_hit_{n}") for n in range(len(suite.rules))]
    conditions = sql.SQL(", ").join(
        sql.SQL("coalesce(({}), false) as {}").format(_condition(rule, batch), flag)
        for rule, flag in zip(suite.rules, flags, strict=True)
    )
    return sql.SQL(
        "create temporary table dq_failing on commit drop as select * from"
        " (select batch.*, {conditions} from {batch} offset 0) as f where {any}"
    ).format(conditions=conditions, batch=sql.SQL(batch), any=sql.SQL(" or ").join(flags))


def _exceptions_insert(table: Table, suite: Suite) -> tuple[sql.Composed, dict[str, object]]:
    """INSERT … SELECT of one exception per (row, rule it fails) from `dq_failing`, counting them per rule; returns
    the statement and its rules' parameters. Column names come from the checked contract."""
    params: dict[str, object] = {}
    fan_out = []
    for n, rule in enumerate(suite.rules):
        value = sql.SQL("f.{}::text").format(sql.Identifier(rule.column))
        if rule.column in table.personal:  # the evidence keeps the value's shape (its punctuation), not the value
            value = sql.SQL("regexp_replace({}, '[[:alnum:]]', '*', 'g')").format(value)
        fields = {f"{field}_{n}": getattr(rule, field) for field in ("column", "name", "severity", "message")}
        params.update(fields)
        column, name, severity, message = (sql.Placeholder(field) for field in fields)
        fan_out.append(
            sql.SQL("(f.{}, {}::text, {}::text, {}::text, {}, {}::text)").format(
                sql.Identifier(f"_dq_hit_{n}"), column, name, severity, value, message
            )
        )
    key = (
        sql.SQL("concat_ws('|', {})").format(sql.SQL(", ").join(sql.Identifier("f", c) for c in table.key))
        if table.key
        else sql.SQL("null")
    )
    statement = sql.SQL(
        "with inserted as (insert into audit.dq_exceptions (run_id, source, table_name, partition_date, batch_id,"
        " source_file, source_row, record_key, column_name, rule, severity, bad_value, message, detected_at)"
        " select %(run_id)s, %(source)s, %(table)s, f._partition_date, f._batch_id, f._source_file, f._source_row,"
        " {key}, r.column_name, r.rule, r.severity, r.bad_value, r.message, clock_timestamp()"
        " from dq_failing as f"
        " cross join lateral (values {fan_out}) as r (hit, column_name, rule, severity, bad_value, message)"
        " where r.hit returning rule)"
        " select rule, count(*) from inserted group by rule"
    ).format(key=key, fan_out=sql.SQL(", ").join(fan_out))
    return statement, params


def validate_table(
    source: Source,
    table: Table,
    partition_date: date,
    params: warehouse.ServerParams | None = None,
    build_index: bool = True,
) -> SuiteResult:
    """Run one table's suite on one partition and replace that partition's exceptions; `build_index`: redraw the
    data docs' index after its page (a partition of several tables redraws it once, after the last)."""
    suite = load_suite(source, table)
    started = time.monotonic()
    params = params or warehouse.warehouse_params()
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
        failing_rows = {rule.name: 0 for rule in suite.rules}
        if suite.rules:
            use_pass_memory(conn)
            conn.execute(_failing_rows(source, table, suite), {"day": partition_date})
            statement, rule_params = _exceptions_insert(table, suite)
            run = {"run_id": run_id, "source": source.name, "table": table.name}
            failing_rows.update(dict(conn.execute(statement, {**run, **rule_params}).fetchall()))
        for rule in suite.rules:
            log.info(
                "%s %s: rule %s (%s): %s rows",
                suite.name,
                partition_date,
                rule.name,
                rule.severity,
                f"{failing_rows[rule.name]:,}",
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
        # GX's verdict and data docs from the same pass; a failure here rolls the exceptions back
        gx_success = run_gx(source, table, suite, partition_date, failing_rows, build_index)
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
            last = table is source.tables[-1]
            results.append(validate_table(source, table, partition_date, params, build_index=last))
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
