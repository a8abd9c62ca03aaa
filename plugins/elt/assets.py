"""Airflow assets of the warehouse: each raw table a DAG validates for a partition, each mart a DAG builds.

URIs follow Airflow's and OpenLineage's Postgres form, `postgres://host:port/database/schema/table`, under one
logical server name (`ELT_ASSET_WAREHOUSE`, default `postgres://warehouse:5432/warehouse`): the warehouse may sit on
a Unix socket, which a URI host cannot express, and an asset must keep its identity wherever the stack runs.
Names are `schema.table`, which is what the Assets view lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from airflow.sdk import Asset

from elt import config
from elt.sources import check_identifier, get_source

WAREHOUSE_DEFAULT = "postgres://warehouse:5432/warehouse"
MARTS = "marts"


def warehouse_uri() -> str:
    """The warehouse's logical URI (`postgres://host:port/database`) that every asset URI starts with."""
    uri = (config.setting("ELT_ASSET_WAREHOUSE", WAREHOUSE_DEFAULT) or WAREHOUSE_DEFAULT).rstrip("/")
    if not uri.startswith("postgres://") or uri.count("/") != 3:
        raise ValueError(f"ELT_ASSET_WAREHOUSE must look like postgres://host:port/database, got {uri!r}")
    return uri


def table_asset(schema: str, table: str) -> Asset:
    """The asset of one warehouse table, grouped by its schema."""
    check_identifier(schema)
    check_identifier(table)
    return Asset(name=f"{schema}.{table}", uri=f"{warehouse_uri()}/{schema}/{table}", group=schema)


def raw_assets(source: str) -> list[Asset]:
    """The raw tables of `source`: what its `validate` task produces (loaded and checked for a partition)."""
    found = get_source(source)
    return [table_asset(found.schema, table.name) for table in found.tables]


def mart_assets(tables: Iterable[str]) -> list[Asset]:
    """Assets of tables in `marts` written by a Python step (not dbt)."""
    return [table_asset(MARTS, table) for table in tables]


def _model_tasks(task_or_group: Any) -> list[Any]:
    """The operators that build a rendered dbt node: the node's own operator, or the tasks of its group."""
    if hasattr(task_or_group, "children"):  # a TaskGroup (a model with its tests run apart)
        return [task for task in task_or_group.children.values() if not hasattr(task, "children")][:1]
    return [task_or_group]


def declare_dbt_marts(group: Any, inlets: Sequence[Asset] = ()) -> list[Asset]:
    """Give each task of a Cosmos task group that builds a model in `marts` that mart as its outlet (and `inlets`,
    the assets it derives from); the marts declared are returned."""
    declared: list[Asset] = []
    for node in group.dbt_graph.filtered_nodes.values():
        if str(node.resource_type.value) not in ("model", "seed", "snapshot") or node.config.get("schema") != MARTS:
            continue
        alias = node.config.get("alias") or node.unique_id.rsplit(".", 1)[-1]
        asset = table_asset(MARTS, alias)
        for task in _model_tasks(group.tasks_map[node.unique_id]):
            task.outlets = [*task.outlets, asset]
            task.inlets = [*task.inlets, *inlets]
        declared.append(asset)
    return declared
