"""The in-process execution API of `elt-runner`, built for the one API version its task SDK speaks.

Airflow's execution API is a Cadwyn app: on its first request it generates a router for each of its API versions
(nine in Airflow 3.3), so that task SDKs of older releases keep working against a newer server. The in-process API
only ever serves the task SDK installed next to it, which speaks the newest version; generating the eight older ones
took 2.7 s of every worker's start (4.0 s against 1.3 s, measured on this machine).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def serve_newest_version_only() -> bool:
    """Make this process's execution API generate only the newest version's routes, before its app is built; False
    (and nothing changed) if the task SDK speaks another version than the API's newest."""
    from airflow.api_fastapi.execution_api import versions
    from airflow.api_fastapi.execution_api.routes import execution_api_router
    from airflow.sdk.api.client import API_VERSION
    from cadwyn import Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    newest = versions.bundle.versions[0].value
    if API_VERSION != newest:
        log.warning(
            "the task SDK speaks API version %s, the execution API's newest is %s: all versions served",
            API_VERSION,
            newest,
        )
        return False
    versions.bundle = VersionBundle(Version(newest))
    # routes kept for older task SDKs only: Cadwyn drops them from the newest version (and refuses a bundle that never
    # restores them)
    execution_api_router.routes[:] = [
        route for route in execution_api_router.routes if _DELETED_ROUTE_TAG not in getattr(route, "tags", ())
    ]
    return True
