"""dbt through astronomer-cosmos: the project, the profile from the `warehouse_transformer` connection, the run's
dates in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from airflow.sdk import Asset
from cosmos import (
    DbtBuildLocalOperator,
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

from elt import assets, connection
from elt.config import DBT_PROJECT_DIR
from elt.connection import ServerParams

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

# The run's dates, read by the project's run_date() and data_interval_end() macros when they execute. Not dbt vars:
# vars are part of what dbt's partial parsing keeps, so each new date made the first dbt task of a run parse the
# whole project again (2 s), and every task of concurrent runs of different dates (dbt by hand still takes vars).
RUN_ENV = {
    "ELT_RUN_DATE": "{{ data_interval_start | ds }}",
    "ELT_DATA_INTERVAL_END": "{{ data_interval_end | ds }}",
}

# libpq options that dbt-postgres's profile takes as fields of its own (it passes its defaults for
# application_name and connect_timeout explicitly, so these must be fields to count); the rest go to dbt as
# libpq environment variables (PGOPTIONS, PGTARGETSESSIONATTRS, ...), which dbt's psycopg2 reads.
DBT_PROFILE_OPTIONS = {
    "sslmode": str,
    "sslcert": str,
    "sslkey": str,
    "sslrootcert": str,
    "application_name": str,
    "connect_timeout": int,
    "keepalives_idle": int,
}


def dbt_profile_fields(params: ServerParams) -> dict[str, Any]:
    """The dbt-postgres profile fields for `params` (the password aside)."""
    fields: dict[str, Any] = {"host": params.host, "port": params.port, "user": params.user, "dbname": params.dbname}
    for key, kind in DBT_PROFILE_OPTIONS.items():
        if (value := params.option(key)) is not None:
            fields[key] = kind(value)
    return fields


class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
    """Cosmos's Postgres mapping, read through `elt.connection` like every other client: the profile gets the
    connection's host, port, user, database and the options dbt has fields for; dbt's environment gets every
    option as a libpq variable, `PGOPTIONS` with `-c TimeZone=UTC` among them (the profile has no `options`)."""

    # a login role may have no password (the embedded server's socket trusts it, or ~/.pgpass has it)
    required_fields = ["host", "user", "dbname"]

    def get_dbt_value(self, name: str) -> Any:
        value = super().get_dbt_value(name)
        return "" if value is None and name == "password" else value

    @property
    def params(self) -> ServerParams:
        return connection.from_airflow_connection(self.conn)

    @property
    def profile(self) -> dict[str, Any]:
        return {
            "type": self.dbt_profile_type,
            **dbt_profile_fields(self.params),
            **self.profile_args,
            "password": self.get_env_var_format("password"),
        }

    @property
    def env_vars(self) -> dict[str, str]:
        return {**super().env_vars, **self.params.libpq_env()}


PROFILE = ProfileConfig(
    profile_name="elt",
    target_name="airflow",
    # dbt connects as elt_transformer: it owns staging, intermediate and marts, and only reads raw and audit
    profile_mapping=WarehouseProfileMapping(conn_id="warehouse_transformer", profile_args={"schema": "staging"}),
)


def dbt_task_group(
    group_id: str,
    select: list[str],
    exclude: list[str] | None = None,
    dbt_project_dir: Path = DBT_PROJECT_DIR,
    inlets: Sequence[Asset] = (),
    **kwargs: Any,
) -> DbtTaskGroup:
    """A task group running the selected dbt nodes (less the excluded), rendered from the pre-built manifest.

    Each task building a model in `marts` declares that mart as its Airflow asset (outlet), with `inlets` as what it
    derives from (elt.assets).

    A selection that renders no node fails the DAG's import: a stale manifest (models added since `make install`
    built it) would otherwise make every run succeed without building anything.
    """
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(dbt_project_path=dbt_project_dir, manifest_path=MANIFEST),
        profile_config=PROFILE,
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        # one `dbt build` task per node (run, then its tests): half the tasks of run + test, same stop on failure;
        # Cosmos's own assets (emit_datasets) appear only after a run, under the connection's host (a socket path
        # here): the marts are declared at parse time instead, under a stable name (elt.assets.declare_dbt_marts)
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=select,
            exclude=exclude or [],
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,
        ),
        operator_args={"env": RUN_ENV, "install_deps": False},
        **kwargs,
    )
    if not group.children:
        raise ValueError(
            f"dbt task group {group_id!r}: no dbt node of {MANIFEST} matches select={select} exclude={exclude or []};"
            " if models were added, rebuild the manifest with `make install`"
        )
    cache_dir = partial_parse_cache()
    for task in group.iter_tasks():
        task.cache_dir = cache_dir
    assets.declare_dbt_marts(group, inlets=inlets)
    return group


def partial_parse_cache() -> Path:
    """The Cosmos cache folder of every dbt task, for dbt's partial-parse state.

    Cosmos keeps one per task group by default, and `make install`'s parse is no use to a task: dbt parses the whole
    project again (4 s) when the profile's connection differs, and it differs from the task's. So the first dbt task
    of each group parsed the project in every new state folder, and a task outside a group (no cache) at every run.
    Tasks share one profile and read the run's dates when they execute, so one parse serves them all."""
    import cosmos.settings

    folder = Path(cosmos.settings.cache_dir) / "dbt_project"
    (folder / "target").mkdir(parents=True, exist_ok=True)
    return folder


def prepare_parse() -> bool:
    """Parse the project for the warehouse's dbt profile into the cache every dbt task starts from, unless the cache
    already holds the newest parse; True if it parsed.

    Without it, the first dbt task of a state folder's first run (and of each run started at once with it) parsed the
    whole project for the profile (5-6 s): `make install`'s parse is for another connection. Like Airflow's
    migration, it is done once, before any run. The command is Cosmos's (project linked into a temporary folder, the
    same profile and flags), so the tasks' dbt accepts the parse as its own."""
    from cosmos import cache as cosmos_cache
    from cosmos.dbt.project import create_symlinks, get_partial_parse_path

    cache_dir = partial_parse_cache()
    if cosmos_cache._get_latest_partial_parse(DBT_PROJECT_DIR, cache_dir) == get_partial_parse_path(cache_dir):
        return False
    with tempfile.TemporaryDirectory() as folder, PROFILE.ensure_profile() as (profile_path, profile_env):
        project = Path(folder)
        create_symlinks(DBT_PROJECT_DIR, project, ignore_dbt_packages=False)
        command = [
            str(Path(sys.executable).parent / "dbt"),
            "--quiet",
            "parse",
            *("--project-dir", folder, "--profiles-dir", str(profile_path.parent)),
            *("--profile", PROFILE.profile_name, "--target", PROFILE.target_name, "--no-static-parser"),
        ]
        subprocess.run(command, env={**os.environ, **profile_env}, cwd=folder, check=True)
        cosmos_cache._update_partial_parse_cache(get_partial_parse_path(project), cache_dir)
    return True


def dbt_build_task(task_id: str, select: list[str], dbt_project_dir: Path = DBT_PROJECT_DIR) -> DbtBuildLocalOperator:
    """One task running `dbt build` of the selected nodes in dbt's order: for seeds whose tests read each other
    (a task per seed would test one before the other exists)."""
    return DbtBuildLocalOperator(
        task_id=task_id,
        project_dir=dbt_project_dir,
        profile_config=PROFILE,
        invocation_mode=InvocationMode.DBT_RUNNER,
        select=select,
        env=RUN_ENV,
        install_deps=False,
        emit_datasets=False,
        cache_dir=partial_parse_cache(),
    )


@cache
def _default_adapter_flags() -> tuple[Any, ...]:
    from dbt.adapters.base import impl

    return tuple(impl.DEFAULT_BASE_BEHAVIOR_FLAGS)


def forget_adapter_flags() -> None:
    """Put dbt-adapters' default behavior flags back as they were at this function's first call (make that call
    before the process's first dbt command).

    Each dbt command makes an adapter, and the adapter appends its own flags to dbt-adapters' module-level default
    list (`BaseAdapter.behavior`'s setter extends `DEFAULT_BASE_BEHAVIOR_FLAGS`, dbt-adapters 1.24.5). The next
    adapter then renders every flag of that list, with an `inspect.stack()` each. In a process running many dbt
    tasks one after another (a backfill's `elt-runner`), every task got slower: electronics_daily's runs went from
    12.9 s to 18 s within 20 runs, while a new process ran the same day in 13.7 s."""
    from dbt.adapters.base import impl

    impl.DEFAULT_BASE_BEHAVIOR_FLAGS[:] = _default_adapter_flags()
