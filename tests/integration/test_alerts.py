"""Alerts on a real warehouse: the summary of a validated voucher partition, delivered to the log, to a local SMTP
server and to a local Slack-style webhook, by the Airflow notifier the DAGs use. No call leaves this machine."""

from __future__ import annotations

import csv
import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from elt import alerts, warehouse
from elt.generate.vouchers import write_voucher_file
from elt.load import load_partition
from elt.notifier import FAILURE, QUALITY, EltAlertNotifier
from elt.quality import validate_table
from elt.sources import get_source
from elt.warehouse import ServerParams

DAY = date(2024, 5, 1)


@pytest.fixture
def validated(landing: Path, warehouse_params: ServerParams) -> Path:
    """A voucher partition with the generator's injected bad values, loaded and validated; the file's path."""
    path = write_voucher_file(
        landing / "vouchers" / DAY.isoformat() / "vouchers.csv", 3_000, seed=5, day=DAY, file_format="csv"
    )
    load_partition("vouchers", DAY)
    source = get_source("vouchers")
    for table in source.tables:
        validate_table(source, table, DAY)
    return path


def test_summary_counts_every_rule_with_a_real_example_row(validated: Path) -> None:
    summary = alerts.summarize("vouchers", DAY)
    with warehouse.connect() as conn:
        expected = dict(
            conn.execute(
                "select rule, count(*) from audit.dq_exceptions where source = 'vouchers' and partition_date = %s"
                " group by rule",
                (DAY,),
            ).fetchall()
        )
        runs = conn.execute(
            "select sum(error_rows), sum(warn_rows), sum(rows_checked) from audit.dq_runs where partition_date = %s",
            (DAY,),
        ).fetchone()
    assert len(expected) >= 3, "the generator injects several kinds of bad values"
    assert {r.rule: r.exceptions for r in summary.rules} == expected
    assert (summary.error_rows, summary.warn_rows, summary.rows_checked) == tuple(runs)
    assert summary.rows_checked == 3_000
    lines = validated.read_text().splitlines()
    for rule in summary.rules:
        file, row = rule.example.rsplit(":", 1)
        assert file == f"vouchers/{DAY}/{validated.name}", "the file as load_log names it (under the landing zone)"
        assert 2 <= int(row) <= len(lines), f"{rule.rule}: {rule.example} is a data line of the file"
    # another partition's exceptions are not counted
    assert alerts.summarize("vouchers", date(2024, 5, 2)).rules == []


def test_render_names_rules_examples_and_the_quality_page(validated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_DASHBOARD_URL", "http://dash.example:8501/")
    alert = alerts.render("vouchers_daily 2024-05-01: task validate failed", alerts.summarize("vouchers", DAY))
    assert alert.subject == "[elt] vouchers_daily 2024-05-01: task validate failed"
    assert "rows checked" in alert.text and "3,000 rows checked" in alert.text
    assert f"e.g. vouchers/{DAY}/{validated.name}:" in alert.text, "an example file:row (the file as in load_log)"
    assert "Data quality: http://dash.example:8501/quality?source=vouchers&date=2024-05-01" in alert.text


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A local HTTP server standing in for a Slack incoming webhook: the JSON bodies it receives."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], **json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXX", received
    finally:
        server.shutdown()
        server.server_close()


def _context(task_id: str, error: Exception | None = None) -> dict:
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    ti = SimpleNamespace(dag_id="vouchers_daily", task_id=task_id)
    return {
        "ti": ti,
        "task_instance": ti,
        "data_interval_start": start,
        "data_interval_end": start.replace(day=DAY.day + 1),
        "exception": error,
    }


def _notifier(kind: str, params: ServerParams, monkeypatch: pytest.MonkeyPatch) -> EltAlertNotifier:
    notifier = EltAlertNotifier(kind)
    monkeypatch.setattr(notifier, "_params", lambda: params)  # the Airflow connection, as a task would read it
    return notifier


def test_failed_task_alert_goes_to_log_email_and_slack(
    validated: Path,
    warehouse_params: ServerParams,
    smtp_server: tuple[int, Inbox],
    webhook: tuple[str, list[dict]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, inbox = smtp_server
    url, posted = webhook
    monkeypatch.setenv("ELT_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ELT_ALERT_SMTP_PORT", str(port))
    monkeypatch.setenv("ELT_ALERT_EMAIL_FROM", "airflow@example.test")
    monkeypatch.setenv("ELT_ALERT_EMAIL_TO", "oncall@example.test, data@example.test")
    monkeypatch.setenv("ELT_ALERT_SLACK_WEBHOOK_URL", url)
    notifier = _notifier(FAILURE, warehouse_params, monkeypatch)

    with caplog.at_level(logging.WARNING, logger="elt.alerts"):
        notifier(_context("transform.voucher_most_used_model_build", RuntimeError("dbt model failed")))

    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT ")]
    assert len(logged) == 1
    assert "vouchers_daily 2024-05-01: task transform.voucher_most_used_model_build failed" in logged[0]
    assert "RuntimeError: dbt model failed" in logged[0]
    summary = alerts.summarize("vouchers", DAY)
    top = summary.rules[0]
    assert f"{top.table}.{top.rule}, {top.severity}: {top.exceptions:,}" in logged[0]

    assert len(inbox.messages) == 1
    sender, recipients, content = inbox.messages[0]
    assert sender == "airflow@example.test"
    assert recipients == ["oncall@example.test", "data@example.test"]
    mail = message_from_bytes(content, policy=policy.default)
    assert mail["Subject"] == "[elt] vouchers_daily 2024-05-01: task transform.voucher_most_used_model_build failed"
    body = mail.get_content()
    assert top.example in body and "/quality?source=vouchers&date=2024-05-01" in body

    assert len(posted) == 1
    assert posted[0]["path"] == "/services/T000/B000/XXX" and posted[0]["type"] == "application/json"
    assert top.example in posted[0]["text"]
    assert "task transform.voucher_most_used_model_build failed" in posted[0]["text"]


def test_quality_alert_only_above_the_thresholds(
    validated: Path, warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    summary = alerts.summarize("vouchers", DAY)
    assert summary.error_rows > 0 and summary.warn_rows >= 0
    notifier = _notifier(QUALITY, warehouse_params, monkeypatch)

    monkeypatch.setenv("ELT_ALERT_ERRORS_THRESHOLD", str(summary.error_rows))
    monkeypatch.setenv("ELT_ALERT_WARNINGS_THRESHOLD", str(summary.warn_rows))
    with caplog.at_level(logging.WARNING, logger="elt.alerts"):
        notifier(_context("validate"))
    assert not [r for r in caplog.records if r.getMessage().startswith("ALERT ")], "at the thresholds: no alert"

    monkeypatch.setenv("ELT_ALERT_ERRORS_THRESHOLD", str(summary.error_rows - 1))
    with caplog.at_level(logging.WARNING, logger="elt.alerts"):
        notifier(_context("validate"))
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT ")]
    assert len(logged) == 1 and "data quality above thresholds (validate)" in logged[0]


def test_a_broken_channel_does_not_stop_the_others(
    warehouse_params: ServerParams, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unreachable SMTP server is logged; the log line still goes out, and the notifier does not raise. With no
    validation recorded, the failure alert says so."""
    monkeypatch.setenv("ELT_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ELT_ALERT_SMTP_PORT", "9")  # discard: nothing listens
    monkeypatch.setenv("ELT_ALERT_EMAIL_TO", "oncall@example.test")
    with caplog.at_level(logging.WARNING, logger="elt.alerts"):
        _notifier(FAILURE, warehouse_params, monkeypatch)(_context("load", ValueError("bad file")))
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("ALERT ") and "No exceptions recorded" in m for m in messages)
    assert any(m.startswith("alert channel email failed") for m in messages)


def test_threshold_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELT_ALERT_WARNINGS_THRESHOLD", "lots")
    with pytest.raises(ValueError, match="ELT_ALERT_WARNINGS_THRESHOLD must be a whole number"):
        alerts.threshold("ELT_ALERT_WARNINGS_THRESHOLD")


def test_csv_example_rows_are_lines_of_the_file(validated: Path) -> None:
    """The example row of a rule is the file's line number (header = line 1) of a row that breaks it."""
    rule = next(r for r in alerts.summarize("vouchers", DAY).rules if r.rule == "voucher_amount_positive_number")
    line = int(rule.example.rsplit(":", 1)[1])
    with validated.open(newline="") as handle:
        row = list(csv.DictReader(handle))[line - 2]
    try:
        assert float(row["voucher_amount"]) <= 0
    except ValueError:
        pass  # not a number at all: also a failure of the rule
