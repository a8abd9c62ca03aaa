"""Browsable docs: the dbt docs (`python -m elt.docs` generates them) and the GX data docs, served by one ASGI app that
Airflow's api-server mounts (plugins/elt_docs_plugin.py), with the data docs' CDN assets served from a local copy.

dbt's docs page loads nothing from outside: its only outside call is dbt's usage tracking, which it turns on only
when the manifest says `send_anonymous_usage_stats` (the project runs with DBT_SEND_ANONYMOUS_USAGE_STATS=False).
GX's data docs link Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs: pages are rewritten on the
way out to the same files installed from the npm registry under `<state>/web_assets` (`make docs-assets`); a file
not installed keeps its CDN address.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from elt import config

DBT_DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")

# what GX's data docs load from CDNs, as npm packages (installed by `make docs-assets`)
WEB_ASSETS = (
    "bootstrap@4.3.1",
    "jquery@3.7.1",
    "popper.js@1.12.9",
    "bootstrap-table@1.19.1",
    "bootstrap-datepicker@1.9.0",
    "@fortawesome/fontawesome-free@6.6.0",
    "@forevolve/bootstrap-dark@1.1.0",
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
)

# CDN addresses that name no npm path: address -> path in node_modules
CDN_FILES = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# unpkg and jsdelivr addresses name the package and its path: https://unpkg.com/<package>@<version>/<path>
NPM_CDN = re.compile(r"https://(?:unpkg\.com|cdn\.jsdelivr\.net/npm)/((?:@[\w.-]+/)?[\w.-]+)@[\w.-]+/([\w./-]+)")
CDN_URL = re.compile(r"""(?<=["'])https://[^"'\s]+(?=["'])""")
# GX's logos, loaded from its own bucket; the data docs ship the long one under static/images/
GX_LOGO = re.compile(r"""https://great-expectations-web-assets\.s3\.[\w.-]+/(?:logo-long|full_logo_dark)\.png[^"'\s]*""")


def dbt_docs_dir() -> Path:
    """Where the dbt docs are kept for serving."""
    return config.state_dir() / "docs" / "dbt"


def web_assets_dir() -> Path:
    """The npm packages of the data docs' assets (`<state>/web_assets/node_modules`)."""
    return config.state_dir() / "web_assets" / "node_modules"


def local_asset(url: str) -> str | None:
    """The node_modules path that stands for a CDN address, or None."""
    if url in CDN_FILES:
        return CDN_FILES[url]
    match = NPM_CDN.fullmatch(url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def localize(html: str, vendor_prefix: str, assets: Path) -> str:
    """`html` with each CDN address whose file is installed under `assets` replaced by `vendor_prefix/<path>`."""

    def swap(match: re.Match[str]) -> str:
        path = local_asset(match.group(0))
        return f"{vendor_prefix}/{path}" if path and (assets / path).is_file() else match.group(0)

    return CDN_URL.sub(swap, html)


def local_logos(html: str, data_docs_root: str) -> str:
    """`html` with GX's logo addresses replaced by the copy the data docs ship."""
    return GX_LOGO.sub(f"{data_docs_root}/static/images/logo-long.png", html)


def install_web_assets(target: Path | None = None) -> Path:
    """Install the data docs' assets from the npm registry with npm (into `<state>/web_assets`)."""
    folder = (target or web_assets_dir()).parent
    folder.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: the data docs keep loading their assets from CDNs")
    command = [npm, "install", "--prefix", str(folder), "--no-save", "--no-audit", "--no-fund", "--legacy-peer-deps"]
    command += ["--ignore-scripts", *WEB_ASSETS]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder / "node_modules"


def generate_dbt_docs(target: Path | None = None) -> Path:
    """Run `dbt docs generate --static` against the warehouse as elt_transformer; keep the docs' files in `target`."""
    from elt import warehouse

    params = warehouse.role_params(warehouse.TRANSFORMER, warehouse.warehouse_params())
    target = target or dbt_docs_dir()
    env = {
        **os.environ,
        "ELT_PG_HOST": params.host,
        "ELT_PG_PORT": str(params.port),
        "ELT_PG_USER": params.user,
        "ELT_PG_PASSWORD": params.password or "",
        "ELT_PG_DATABASE": params.dbname,
        **params.libpq_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    with tempfile.TemporaryDirectory() as build:
        # --no-compile: the models need a run's dates (vars) to compile; the docs read the manifest that `make
        # install` parsed (dbt parse) and show the models' source SQL
        shutil.copy2(config.DBT_PROJECT_DIR / "target" / "manifest.json", Path(build) / "manifest.json")
        command = [dbt, "docs", "generate", "--static", "--no-compile", "--project-dir", str(config.DBT_PROJECT_DIR)]
        command += ["--profiles-dir", str(config.DBT_PROJECT_DIR), "--target-path", build, "--quiet"]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"dbt docs generate failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        target.mkdir(parents=True, exist_ok=True)
        for name in DBT_DOCS_FILES:
            shutil.copy2(Path(build) / name, target / name)
    return target


class Folder:
    """An ASGI app serving a folder (Starlette's StaticFiles, `index.html` for `/`) that may not exist yet: until it
    does, a 404 page says how to make it. HTML pages pass through `rewrite` when given."""

    def __init__(self, folder: Path, missing: str, rewrite: Any = None) -> None:
        self.folder, self.missing, self.rewrite = folder, missing, rewrite
        self._files: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        from starlette.responses import HTMLResponse

        if not (self.folder / "index.html").is_file():
            await HTMLResponse(f"<h1>Not built yet</h1><p>{self.missing}</p>", status_code=404)(scope, receive, send)
            return
        if self.rewrite is not None and scope["type"] == "http":
            path = _route_path(scope).rstrip("/") or "/"
            file = self.folder / path.lstrip("/") if path != "/" else self.folder / "index.html"
            if file.is_dir():
                file = file / "index.html"
            if file.suffix == ".html" and file.is_file() and file.resolve().is_relative_to(self.folder.resolve()):
                html = self.rewrite(file.read_text(encoding="utf-8"), scope.get("root_path", ""))
                await HTMLResponse(html)(scope, receive, send)
                return
        if self._files is None:
            from starlette.staticfiles import StaticFiles

            self._files = StaticFiles(directory=self.folder, html=True)
        await self._files(scope, receive, send)


def vendor_root(data_docs_root: str) -> str:
    """Where the app serves the installed assets, from where it serves the data docs (`<mount>/data`)."""
    return f"{data_docs_root.removesuffix('/data')}/vendor"


def _route_path(scope: dict) -> str:
    """The request's path below the app's mount point (what Starlette's StaticFiles serves)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def create_app() -> Any:
    """The docs app: `/dbt/` the dbt docs, `/data/` the GX data docs, `/vendor/` their local assets, `/` an index."""
    from fastapi import FastAPI
    from starlette.responses import HTMLResponse

    app = FastAPI(title="ELT docs", docs_url=None, redoc_url=None, openapi_url=None)
    assets = web_assets_dir()
    app.mount(
        "/dbt",
        Folder(dbt_docs_dir(), "Generate them with <code>.venv/bin/python -m elt.docs</code> (make demo does)."),
    )
    app.mount(
        "/data",
        Folder(
            config.data_docs_dir(),
            "GX builds them on the first validation (run a DAG, or <code>make demo</code>).",
            rewrite=lambda html, root: local_logos(localize(html, vendor_root(root), assets), root),
        ),
    )
    app.mount("/vendor", _Vendor(assets))

    def index(request: Any) -> HTMLResponse:
        prefix = request.scope.get("root_path", "")
        return HTMLResponse(
            "<h1>Docs</h1><ul>"
            f'<li><a href="{prefix}/dbt/">dbt docs</a>: models, columns, tests, lineage</li>'
            f'<li><a href="{prefix}/data/">Data docs</a>: Great Expectations suites and validation results</li></ul>'
        )

    app.add_route("/", index, methods=["GET"])
    return app


class _Vendor:
    """The installed npm packages, read-only, when `make docs-assets` installed them; 404 otherwise."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        from starlette.responses import PlainTextResponse
        from starlette.staticfiles import StaticFiles

        if not self.folder.is_dir():
            await PlainTextResponse("web assets not installed (make docs-assets)", 404)(scope, receive, send)
            return
        if self._files is None:
            self._files = StaticFiles(directory=self.folder)
        await self._files(scope, receive, send)


def main() -> int:
    """`python -m elt.docs [--assets]`: generate the dbt docs (and install the data docs' assets)."""
    if "--assets" in sys.argv[1:]:
        try:
            print(f"data docs' assets installed in {install_web_assets()}")
        except (RuntimeError, subprocess.CalledProcessError) as error:  # no npm, no registry: the docs still work
            print(f"data docs' assets not installed ({error}): the data docs load them from CDNs", file=sys.stderr)
    print(f"dbt docs generated in {generate_dbt_docs()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
