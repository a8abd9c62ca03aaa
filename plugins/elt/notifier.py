"""The Airflow notifier of the project's alerts (elt.alerts): a failed task, or a validation above the thresholds."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

FAILURE, QUALITY = "failure", "quality"


def source_of(dag_id: str) -> str | None:
    """The source whose DAGs include `dag_id` (None for a DAG of no source)."""
    from elt.sources import SOURCES

    return next((name for name, source in SOURCES.items() if dag_id in source.dag_ids), None)


class EltAlertNotifier(BaseNotifier):
    """On `failure`: alert with the error and the run's data-quality summary. On `quality` (a validate task's success):
    alert only when the partition's error or warning rows pass ELT_ALERT_ERRORS_THRESHOLD /
    ELT_ALERT_WARNINGS_THRESHOLD."""

    def __init__(self, kind: str = FAILURE, conn_id: str = "warehouse_loader") -> None:
        super().__init__()
        if kind not in (FAILURE, QUALITY):
            raise ValueError(f"kind must be {FAILURE!r} or {QUALITY!r}, got {kind!r}")
        self.kind = kind
        self.conn_id = conn_id

    def notify(self, context: Any) -> None:
        from elt import alerts

        ti = context.get("task_instance") or context.get("ti")
        dag_id, task_id = getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?")
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        source = source_of(dag_id)
        summary, problem = None, None
        if source is not None and start is not None:
            try:
                summary = alerts.summarize(source, start.date(), end.date() if end else None, params=self._params())
            except Exception as error:  # the warehouse may be what failed: alert anyway
                problem = f"no data-quality summary ({type(error).__name__}: {error})"
        if self.kind == QUALITY:
            if summary is None or not alerts.above_thresholds(summary):
                return
            headline = f"{dag_id} {start:%Y-%m-%d}: data quality above thresholds ({task_id})"
            alerts.send(alerts.render(headline, summary, problem))
            return
        error = context.get("exception")
        partition = f" {start:%Y-%m-%d}" if start is not None else ""
        headline = f"{dag_id}{partition}: task {task_id} failed"
        detail = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        alerts.send(alerts.render(headline, summary, detail + (f"; {problem}" if problem else "")))

    def _params(self) -> Any:
        from elt.tasks import warehouse_from_connection

        return warehouse_from_connection(self.conn_id)
