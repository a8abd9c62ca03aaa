"""Failure and data-quality alerts: a summary of a partition's `audit.dq_exceptions`, sent to the channels `.env` names.

A summary counts the partition's failing rows per table and rule, with one example `file:row` per rule, and links to
the dashboard's data-quality page (`ELT_DASHBOARD_URL` + `ELT_DASHBOARD_QUALITY_PATH`). Channels: a log line always;
e-mail when `ELT_ALERT_SMTP_HOST` and `ELT_ALERT_EMAIL_TO` are set; a Slack incoming webhook when
`ELT_ALERT_SLACK_WEBHOOK_URL` is set. A channel that fails is logged and the others still get the alert.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage

from elt import config, warehouse
from elt.warehouse import ServerParams

log = logging.getLogger(__name__)

DASHBOARD_URL_DEFAULT = "http://127.0.0.1:8501"
QUALITY_PATH_DEFAULT = "/quality"

SUMMARY_SQL = """
with rules as (
    select table_name, rule, severity, count(*) as exceptions, count(distinct (source_file, source_row)) as rows
    from audit.dq_exceptions where source = %(source)s and partition_date >= %(start)s and partition_date < %(end)s
    group by table_name, rule, severity
), examples as (
    select distinct on (table_name, rule, severity) table_name, rule, severity, source_file, source_row
    from audit.dq_exceptions where source = %(source)s and partition_date >= %(start)s and partition_date < %(end)s
    order by table_name, rule, severity, source_file, source_row
)
select r.table_name, r.rule, r.severity, r.exceptions, r.rows, e.source_file, e.source_row
from rules r join examples e using (table_name, rule, severity)
order by r.severity, r.exceptions desc, r.table_name, r.rule
"""

TOTALS_SQL = """
select coalesce(sum(error_rows), 0), coalesce(sum(warn_rows), 0), coalesce(sum(rows_checked), 0)
from (
    select distinct on (table_name, partition_date) error_rows, warn_rows, rows_checked from audit.dq_runs
    where source = %(source)s and partition_date >= %(start)s and partition_date < %(end)s
    order by table_name, partition_date, run_id desc
) latest
"""


@dataclass(frozen=True)
class RuleCount:
    """One rule's failures in a partition, with the first failing file and row."""

    table: str
    rule: str
    severity: str
    exceptions: int
    rows: int
    example: str


@dataclass
class Summary:
    """What validation recorded for one source and its partitions from `partition_date` to before `end` (the latest
    run per table and partition)."""

    source: str
    partition_date: date
    end: date
    rules: list[RuleCount] = field(default_factory=list)
    error_rows: int = 0
    warn_rows: int = 0
    rows_checked: int = 0


@dataclass(frozen=True)
class Alert:
    """A message ready for any channel."""

    subject: str
    text: str


def summarize(
    source: str, partition_date: date, end: date | None = None, params: ServerParams | None = None
) -> Summary:
    """The exceptions per rule (counts, an example file:row) of the partition (or the partitions up to before `end`),
    and the row totals of their latest runs."""
    end = end or partition_date + timedelta(days=1)
    args = {"source": source, "start": partition_date, "end": end}
    with warehouse.connect(params) as conn:
        rows = conn.execute(SUMMARY_SQL, args).fetchall()
        error_rows, warn_rows, checked = conn.execute(TOTALS_SQL, args).fetchone()
    rules = [RuleCount(t, r, s, n, rows_, f"{file}:{row}") for t, r, s, n, rows_, file, row in rows]
    return Summary(source, partition_date, end, rules, int(error_rows), int(warn_rows), int(checked))


def quality_url(source: str | None = None, partition_date: date | None = None) -> str:
    """The dashboard's data-quality page, filtered to the source and partition when given."""
    base = (config.setting("ELT_DASHBOARD_URL", DASHBOARD_URL_DEFAULT) or DASHBOARD_URL_DEFAULT).rstrip("/")
    path = config.setting("ELT_DASHBOARD_QUALITY_PATH", QUALITY_PATH_DEFAULT) or QUALITY_PATH_DEFAULT
    query = "&".join(
        f"{key}={value}" for key, value in (("source", source), ("date", partition_date)) if value is not None
    )
    return f"{base}/{path.lstrip('/')}" + (f"?{query}" if query else "")


def threshold(name: str) -> int:
    """A row-count threshold setting (`ELT_ALERT_ERRORS_THRESHOLD`, `ELT_ALERT_WARNINGS_THRESHOLD`); default 0."""
    return config.int_setting(name, 0, minimum=0)


def above_thresholds(summary: Summary) -> bool:
    """True when the partition's error rows or warning rows pass their thresholds (counts of rows)."""
    errors, warnings = threshold("ELT_ALERT_ERRORS_THRESHOLD"), threshold("ELT_ALERT_WARNINGS_THRESHOLD")
    return summary.error_rows > errors or summary.warn_rows > warnings


def render(headline: str, summary: Summary | None, problem: str | None = None) -> Alert:
    """The alert's subject and plain text: the headline, the failure if any, the exceptions per rule, the link."""
    lines = [headline]
    if problem:
        lines.append(f"Error: {problem}")
    if summary is not None:
        days = summary.partition_date.isoformat()
        if summary.end - summary.partition_date > timedelta(days=1):
            days += f" to {summary.end - timedelta(days=1)}"
        lines.append(
            f"Validation of {summary.source} {days}: {summary.rows_checked:,} rows checked,"
            f" {summary.error_rows:,} with errors, {summary.warn_rows:,} with warnings."
        )
        if summary.rules:
            lines.append("Exceptions per rule (table.rule, severity: exceptions, rows; example file:row):")
            lines += [
                f"- {r.table}.{r.rule}, {r.severity}: {r.exceptions:,}, {r.rows:,} rows; e.g. {r.example}"
                for r in summary.rules
            ]
        else:
            lines.append("No exceptions recorded for this partition.")
    link = quality_url(summary.source, summary.partition_date) if summary else quality_url()
    lines.append(f"Data quality: {link}")
    return Alert(subject=f"[elt] {headline}", text="\n".join(lines))


def send_log(alert: Alert) -> None:
    """The default channel: one warning line in the task's log."""
    log.warning("ALERT %s", alert.text.replace("\n", " | "))


def send_email(alert: Alert) -> None:
    """Send the alert by SMTP (`ELT_ALERT_SMTP_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_STARTTLS`, `_SSL`) from
    `ELT_ALERT_EMAIL_FROM` to the comma-separated `ELT_ALERT_EMAIL_TO`."""
    host = config.setting("ELT_ALERT_SMTP_HOST") or ""
    port = int(config.setting("ELT_ALERT_SMTP_PORT", "25") or "25")
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = config.setting("ELT_ALERT_EMAIL_FROM", "elt@localhost") or "elt@localhost"
    message["To"] = ", ".join(_recipients())
    message.set_content(alert.text)
    use_ssl = _flag("ELT_ALERT_SMTP_SSL")
    with (smtplib.SMTP_SSL if use_ssl else smtplib.SMTP)(host, port, timeout=30) as smtp:
        if _flag("ELT_ALERT_SMTP_STARTTLS"):
            smtp.starttls()
        if user := config.setting("ELT_ALERT_SMTP_USER"):
            smtp.login(user, config.setting("ELT_ALERT_SMTP_PASSWORD", "") or "")
        smtp.send_message(message)


def send_slack(alert: Alert) -> None:
    """POST the alert as JSON `{"text": ...}` to the Slack incoming webhook `ELT_ALERT_SLACK_WEBHOOK_URL`."""
    url = config.setting("ELT_ALERT_SLACK_WEBHOOK_URL") or ""
    if not url.startswith(("https://", "http://")):
        raise ValueError("ELT_ALERT_SLACK_WEBHOOK_URL must be an http(s) URL")
    body = json.dumps({"text": f"*{alert.subject}*\n{alert.text}"}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the URL is the operator's setting)
        response.read()


def _flag(name: str) -> bool:
    return (config.setting(name, "false") or "false").lower() in ("1", "true", "yes", "on")


def _recipients() -> list[str]:
    return [a.strip() for a in (config.setting("ELT_ALERT_EMAIL_TO", "") or "").split(",") if a.strip()]


def channels() -> list[tuple[str, Callable[[Alert], None]]]:
    """The configured channels: the log always, e-mail and Slack when their settings are present."""
    found: list[tuple[str, Callable[[Alert], None]]] = [("log", send_log)]
    if config.setting("ELT_ALERT_SMTP_HOST") and _recipients():
        found.append(("email", send_email))
    if config.setting("ELT_ALERT_SLACK_WEBHOOK_URL"):
        found.append(("slack", send_slack))
    return found


def send(alert: Alert) -> list[str]:
    """Send to every configured channel; the names of those that took it. A failing channel is logged, not raised."""
    sent = []
    for name, deliver in channels():
        try:
            deliver(alert)
            sent.append(name)
        except Exception as error:  # an alert must never hide the failure it reports
            log.error("alert channel %s failed: %s: %s", name, type(error).__name__, error)
    return sent
