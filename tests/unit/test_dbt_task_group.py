"""A dbt task group that selects nothing fails the DAG's import instead of giving runs that build nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk import DAG

from elt.dbt import dbt_task_group


def test_a_selection_without_nodes_fails_the_import() -> None:
    with DAG(dag_id="probe", schedule=None, start_date=datetime(2024, 1, 1)):
        group = dbt_task_group("transform", select=["tag:subscriptions"])
        assert any(task_id.startswith("transform.stg_subscriptions__install_periods") for task_id in group.children)
        with pytest.raises(ValueError, match=r"no dbt node of .*manifest.json matches select=\['tag:no_such_tag'\]"):
            dbt_task_group("nothing", select=["tag:no_such_tag"])
