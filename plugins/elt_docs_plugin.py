"""Airflow plugin: the dbt docs and the GX data docs, served by Airflow's api-server under /elt-docs (elt.docs) and
listed in the UI's navigation ("dbt docs", "Data docs", shown inside the UI).

Every Airflow process loads plugins: this file imports nothing but Airflow's plugin base; the docs app (FastAPI) is
built on the first request."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

PREFIX = "/elt-docs"


class LazyDocsApp:
    """An ASGI app that builds elt.docs's app on its first call and hands every call to it."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self._app is None:
            from elt.docs import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class DocsPlugin(AirflowPlugin):
    name = "elt_docs"
    fastapi_apps = [{"app": LazyDocsApp(), "url_prefix": PREFIX, "name": "dbt and data docs"}]
    # url_route: shown inside the UI (an iframe at /plugin/<url_route>), under a "Docs" menu of the navigation
    external_views = [
        {"name": name, "href": f"{PREFIX}/{path}/", "url_route": route, "category": "Docs", "destination": "nav"}
        for name, path, route in (("dbt docs", "dbt", "dbt-docs"), ("Data docs", "data", "data-docs"))
    ]
