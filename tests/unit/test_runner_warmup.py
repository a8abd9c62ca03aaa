"""A worker imports GX before its first run only for DAGs that validate with it (elt.runner._validates): GX's import
is 2.5 s of the start that every in-process run of a DAG waits for."""

from __future__ import annotations

from elt import runner


def test_the_dags_with_a_validate_task_are_the_ones_that_warm_gx() -> None:
    validating = {dag_id for dag_id, dag in runner.load_dags().items() if runner._validates(dag)}
    assert validating == {
        "vouchers_daily",
        "thelook_daily",
        "electronics_daily",
        "store_orders_daily",
        "subscriptions_daily",
    }
    assert not runner._validates(runner.load_dag("customer_segments_weekly"))
