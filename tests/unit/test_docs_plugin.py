"""The docs plugin: Airflow's plugin manager mounts the docs app under /elt-docs; it serves the dbt docs and the GX
data docs from the state folder, with the data docs' CDN addresses rewritten to the local copies that are installed;
the UI's navigation lists both views."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from elt import docs

PLUGINS = Path(__file__).parents[2] / "plugins"

PROBE = r"""
import json, sys
from fastapi import FastAPI
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import init_plugins
from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse
from airflow import plugins_manager
app = FastAPI()
init_plugins(app)  # what Airflow's api-server does with the plugins' fastapi_apps
lazy = "elt.docs" not in sys.modules
client = TestClient(app)
get = lambda path: (lambda r: {"status": r.status_code, "text": r.text})(client.get(path))
views, _ = plugins_manager._get_ui_plugins()  # what GET /api/v2/plugins and the UI list
print(json.dumps({
    "lazy": lazy,
    "index": get("/elt-docs/"),
    "dbt": get("/elt-docs/dbt/"),
    "dbt_static": get("/elt-docs/dbt/static_index.html"),
    "data": get("/elt-docs/data/"),
    "data_page": get("/elt-docs/data/validations/run.html"),
    "vendor": get("/elt-docs/vendor/jquery/dist/jquery.min.js"),
    "escape": get("/elt-docs/dbt/../../secret.txt"),
    "views": [ExternalViewResponse(**view).model_dump() for view in views],
}))
"""

CDN_PAGE = """<html><head>
<link href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css" rel="stylesheet">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js"></script>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=2024">
GX data docs</body></html>"""


def _probe(state: Path, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "PYTHONPATH": str(PLUGINS),
        "ELT_STATE_DIR": str(state),
    }
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_plugin_serves_both_docs_with_local_assets(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "docs" / "dbt").mkdir(parents=True)
    (state / "docs" / "dbt" / "index.html").write_text("<html>dbt docs of elt</html>")
    (state / "docs" / "dbt" / "static_index.html").write_text("<html>dbt docs, one file</html>")
    (state / "secret.txt").write_text("not for the web")
    data_docs = state / "gx" / "data_docs"
    (data_docs / "validations").mkdir(parents=True)
    (data_docs / "index.html").write_text(CDN_PAGE)
    (data_docs / "validations" / "run.html").write_text(CDN_PAGE)
    jquery = state / "web_assets" / "node_modules" / "jquery" / "dist" / "jquery.min.js"
    jquery.parent.mkdir(parents=True)
    jquery.write_text("/*! jQuery v3.7.1 */")

    probe = _probe(state, tmp_path)

    assert probe["lazy"], "loading the plugin builds no app"
    assert probe["index"]["status"] == 200 and 'href="/elt-docs/dbt/"' in probe["index"]["text"]
    assert probe["dbt"] == {"status": 200, "text": "<html>dbt docs of elt</html>"}
    assert probe["dbt_static"]["text"] == "<html>dbt docs, one file</html>"
    for page in ("data", "data_page"):
        assert probe[page]["status"] == 200
        text = probe[page]["text"]
        assert '<script src="/elt-docs/vendor/jquery/dist/jquery.min.js">' in text, "installed: served locally"
        assert "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css" in text, "not installed: kept"
        assert '<img src="/elt-docs/data/static/images/logo-long.png">' in text, "GX's own copy of its logo"
    assert probe["vendor"] == {"status": 200, "text": "/*! jQuery v3.7.1 */"}
    assert probe["escape"]["status"] == 404
    assert [(v["name"], v["href"], v["url_route"], v["category"], v["destination"]) for v in probe["views"]] == [
        ("dbt docs", "/elt-docs/dbt/", "dbt-docs", "Docs", "nav"),
        ("Data docs", "/elt-docs/data/", "data-docs", "Docs", "nav"),
    ]


def test_docs_not_built_yet_say_how(tmp_path: Path) -> None:
    probe = _probe(tmp_path / "empty", tmp_path)
    assert probe["dbt"]["status"] == 404 and "python -m elt.docs" in probe["dbt"]["text"]
    assert probe["data"]["status"] == 404 and "make demo" in probe["data"]["text"]
    assert probe["vendor"]["status"] == 404


def test_cdn_addresses_map_to_npm_paths() -> None:
    assert docs.local_asset("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/x.min.css") == (
        "bootstrap-table/dist/extensions/filter-control/x.min.css"
    )
    assert docs.local_asset(
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css"
    ) == ("@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css")
    assert docs.local_asset("https://cdn.jsdelivr.net/npm/vega@5") == "vega/build/vega.min.js"
    assert docs.local_asset("https://greatexpectations.io") is None
