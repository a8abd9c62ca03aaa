"""dbt through astronomer-cosmos: the project, the profile from the `warehouse` connection, the run's dates as vars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.profiles import PostgresUserPasswordProfileMapping

from elt.config import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

RUN_VARS = {
    "run_date": "{{ data_interval_start | ds }}",
    "data_interval_end": "{{ data_interval_end | ds }}",
}

PROFILE = ProfileConfig(
    profile_name="elt",
    target_name="airflow",
    profile_mapping=PostgresUserPasswordProfileMapping(conn_id="warehouse", profile_args={"schema": "staging"}),
)


def dbt_task_group(
    group_id: str, select: list[str], dbt_project_dir: Path = DBT_PROJECT_DIR, **kwargs: Any
) -> DbtTaskGroup:
    """A task group running the selected dbt nodes, rendered from the pre-built manifest."""
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=dbt_project_dir, manifest_path=MANIFEST),
        profile_config=PROFILE,
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        # one `dbt build` task per node (run, then its tests): half the tasks of run + test, same stop on failure;
        # no Airflow assets from dbt nodes: their URIs cannot express a socket host, and no DAG consumes them
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, select=select, test_behavior=TestBehavior.BUILD, emit_datasets=False
        ),
        operator_args={"vars": RUN_VARS, "install_deps": False},
        **kwargs,
    )
