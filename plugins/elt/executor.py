"""The executor of `elt airflow`: Airflow's LocalExecutor, with the tasks' heavy imports made once, before it forks.

The LocalExecutor forks its workers from the scheduler when it starts, and each task process from a worker: what the
scheduler has imported by then, every task process has without importing it. A task of ours imports Cosmos and
Airflow's task SDK to parse its DAG file, dbt to build, Great Expectations to validate: seconds of CPU per task on
a 2-core machine, paid once here instead.
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

# what a task process of the project's DAGs imports (elt.tasks and elt.dbt are what the DAG files import)
PRELOADED = (
    "elt.tasks",
    "elt.dbt",
    "elt.load",
    "elt.quality",
    "dbt.cli.main",
    "cosmos.operators.local",
    "great_expectations",
    "airflow.sdk.execution_time.task_runner",
)


class PreloadedLocalExecutor(LocalExecutor):
    """LocalExecutor whose workers start with the project's task modules imported (see the module's docstring)."""

    def start(self) -> None:
        started = time.monotonic()
        for name in PRELOADED:
            importlib.import_module(name)
        log.info("Imported %s for the task processes in %.1f s", ", ".join(PRELOADED), time.monotonic() - started)
        super().start()
