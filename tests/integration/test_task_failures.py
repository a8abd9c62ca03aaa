"""The load and validate tasks: a deterministic failure fails at once (no retry), a transient one is retried;
a run whose logical date is not its partition fails before it touches anything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from elt import load, tasks, warehouse
from elt.load import LoadError
from elt.quality import QualityError
from elt.warehouse import ServerParams

DAY = date(2024, 3, 1)
START = datetime(2024, 3, 1, tzinfo=UTC)


def context(logical: datetime | None, start: datetime | None = START, days: int = 1) -> dict:
    end = start + timedelta(days=days) if start else None
    return {
        "logical_date": logical,
        "data_interval_start": start,
        "data_interval_end": end,
        "task_instance": SimpleNamespace(dag_id="vouchers_daily"),
        "params": {"freshness": "warn", "clusters": None},
    }


@pytest.fixture
def run_context(monkeypatch: pytest.MonkeyPatch, warehouse_params: ServerParams) -> dict:
    """The running task's context: a scheduled run of partition 2024-03-01, against the test's warehouse."""
    ctx = context(START)
    monkeypatch.setattr(tasks, "get_current_context", lambda: ctx)
    monkeypatch.setattr(tasks, "warehouse_from_connection", lambda conn_id="warehouse": warehouse_params)
    return ctx


def test_the_partition_is_the_start_of_the_interval_named_by_the_logical_date(run_context: dict) -> None:
    assert tasks.partition_date() == DAY


def test_a_run_whose_logical_date_is_not_its_partition_fails_at_once(run_context: dict) -> None:
    run_context.update(context(START + timedelta(days=1)))  # the UI's Trigger button for 2024-03-02
    with pytest.raises(AirflowFailException) as failure:
        tasks.partition_date()
    message = str(failure.value)
    assert "logical date 2024-03-02 00:00 is not its partition" in message, message
    assert "data interval is 2024-03-01 00:00 to 2024-03-02 00:00" in message
    assert "UI's Trigger button" in message and "ENDING at the logical date" in message
    assert "Backfill whose start and end are the partition date" in message
    assert "`elt run vouchers_daily --date 2024-03-01`" in message


def test_a_run_without_logical_date_fails_at_once(run_context: dict) -> None:
    run_context.update(context(None))
    with pytest.raises(AirflowFailException, match="no logical date.*Backfill whose start and end"):
        tasks.partition_date()
    with pytest.raises(AirflowFailException, match="no logical date"):
        tasks.load.function("vouchers")


def write(landing: Path, content: str) -> None:
    folder = landing / "vouchers" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "v.csv").write_text(content)


def test_a_bad_file_fails_the_load_task_without_retry(run_context: dict, landing: Path) -> None:
    write(landing, "timestamp,country_code\n2024-03-01,Peru\n")
    with pytest.raises(AirflowFailException, match=r"vouchers/2024-03-01/v.csv: missing required column\(s\)"):
        tasks.load.function("vouchers")
    with warehouse.connect() as conn:
        assert conn.execute("select status from audit.load_log").fetchall() == [("failed",)]


def test_a_transient_load_failure_is_raised_for_airflow_to_retry(
    run_context: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args, **kwargs):
        raise LoadError("raw_vouchers.voucher_assignments 2024-03-01: lock timeout", transient=True)

    monkeypatch.setattr(load, "load_partition", locked)
    with pytest.raises(LoadError, match="lock timeout") as failure:
        tasks.load.function("vouchers")
    assert not isinstance(failure.value, AirflowFailException)


def test_validate_fails_at_once_over_the_threshold_and_retries_a_lost_connection(
    run_context: dict, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        landing,
        "timestamp,country_code,last_order_ts,total_orders,voucher_amount\n"
        "2024-03-01 10:00:00,,2024-02-01,1.0,2640\n2024-03-01 10:00:00,,2024-02-01,1.0,2640\n",
    )
    tasks.load.function("vouchers")
    with pytest.raises(AirflowFailException, match="error share above the suite threshold"):
        tasks.validate.function("vouchers")

    from elt import quality

    def gone(*args, **kwargs):
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    monkeypatch.setattr(quality, "run_gx", gone)
    with pytest.raises(QualityError, match="validation could not run: terminating connection") as failure:
        tasks.validate.function("vouchers")
    assert failure.value.transient


def test_a_missing_suite_fails_validation_at_once(run_context: dict, landing: Path, monkeypatch) -> None:
    from elt import config

    write(landing, "timestamp,country_code,last_order_ts,total_orders,voucher_amount\n2024-03-01,Peru,2024-02-01,1,5\n")
    tasks.load.function("vouchers")
    monkeypatch.setattr(config, "EXPECTATIONS_DIR", landing / "nowhere")
    with pytest.raises(AirflowFailException, match="cannot read suite"):
        tasks.validate.function("vouchers")


def test_a_failed_row_that_cannot_be_written_never_hides_the_load_error(
    landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = load._log_rows

    def server_gone(conn: psycopg.Connection, rows: list[tuple]) -> None:
        if rows[0][8] == "failed":
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        original(conn, rows)

    monkeypatch.setattr(load, "_log_rows", server_gone)
    write(landing, "")
    with pytest.raises(LoadError, match=r"vouchers/2024-03-01/v.csv: file is empty") as failure:
        load.load_partition("vouchers", DAY)
    assert not failure.value.transient


def test_retries_wait_a_setting_not_five_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tasks.DEFAULT_ARGS["retries"] == 2
    monkeypatch.delenv("ELT_RETRY_DELAY_SECONDS", raising=False)
    assert tasks.retry_delay() == timedelta(seconds=30)
    monkeypatch.setenv("ELT_RETRY_DELAY_SECONDS", "5")
    assert tasks.retry_delay() == timedelta(seconds=5)
    monkeypatch.setenv("ELT_RETRY_DELAY_SECONDS", "soon")
    with pytest.raises(ValueError, match="ELT_RETRY_DELAY_SECONDS"):
        tasks.retry_delay()
