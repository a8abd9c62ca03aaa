"""Airflow plugin: the voucher lookup API (elt.serve.api) mounted in Airflow's api-server under /vouchers-api, so
the team runs one server (docs at /vouchers-api/docs, schema at /vouchers-api/openapi.json).

Every Airflow process loads plugins (the dag-processor and workers too): this file imports nothing but Airflow's
plugin base; the API's module (FastAPI, pydantic models) is imported by the first request, and it connects to the
warehouse only when a request needs it."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin


class LazyVoucherApi:
    """An ASGI app that imports elt.serve.api on its first call and hands every call to it."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self._app is None:
            from elt.serve.api import app

            self._app = app
        await self._app(scope, receive, send)


class VoucherApiPlugin(AirflowPlugin):
    name = "elt_voucher_api"
    fastapi_apps = [{"app": LazyVoucherApi(), "url_prefix": "/vouchers-api", "name": "Voucher lookup"}]
