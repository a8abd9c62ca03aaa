"""The worker's in-process execution API, built for the newest API version only (elt.execution_api), serves that
version exactly as Airflow's full app does: the same paths, operations and schemas in its OpenAPI document."""

from __future__ import annotations

import json
import subprocess
import sys

# the newest version's OpenAPI document from Airflow's app as it is, then from one built after the change
SCRIPT = """
import json
from fastapi.testclient import TestClient
from airflow.api_fastapi.execution_api import versions
from airflow.api_fastapi.execution_api.app import create_task_execution_api_app
from airflow.sdk.api.client import API_VERSION
from elt.execution_api import serve_newest_version_only

def newest_spec():
    response = TestClient(create_task_execution_api_app()).get("/openapi.json", params={"version": API_VERSION})
    response.raise_for_status()
    return response.json()

full = newest_spec()
changed = serve_newest_version_only()
print(json.dumps({"changed": changed, "versions": len(versions.bundle.versions), "full": full,
                  "newest_only": newest_spec()}))
"""


def test_the_newest_version_alone_is_served_as_the_full_app_serves_it() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    specs = json.loads(done.stdout.strip().splitlines()[-1])
    # the task SDK installed here speaks the API's newest version (if not, the worker keeps every version)
    assert specs["changed"] is True
    assert specs["versions"] == 1, "only the newest version is generated"
    assert len(specs["full"]["paths"]) > 30, "the full app's document lists the execution API's routes"
    assert specs["newest_only"]["paths"] == specs["full"]["paths"]
    assert specs["newest_only"]["components"] == specs["full"]["components"]
