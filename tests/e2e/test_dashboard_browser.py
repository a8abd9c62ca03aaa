"""`elt dashboard` (its own process) on the demo warehouse, every page opened in headless Chromium (Debian's package)
through Playwright: no exception block, every chart drawn by Vega, a screenshot of each page under the run's
artifacts folder (`$ELT_TEST_ARTIFACTS`, else the pytest base temp folder): `<artifacts>/screenshots/<page>.png`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from elt.serve.dashboard import PAGES
from elt.serve.running import serving
from elt.warehouse import ServerParams

CHROMIUM = Path("/usr/bin/chromium")
CHARTS = {"quality": 2, "vouchers": 1, "customers": 4, "electronics": 4, "store_orders": 4, "subscriptions": 5}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: install Debian's package (apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def dashboard(demo_warehouse: ServerParams, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`elt dashboard` on a free loopback port against the demo warehouse; its base URL once it answers."""
    log = tmp_path_factory.mktemp("dashboard") / "elt-dashboard.log"
    env = {**os.environ, "ELT_WAREHOUSE_URL": demo_warehouse.libpq_url()}
    with log.open("w") as out:
        try:
            with serving("dashboard", "/_stcore/health", env, output=out) as base:
                yield base
        except RuntimeError as error:
            raise AssertionError(f"{error}\n{log.read_text()}") from None


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(os.environ.get("ELT_TEST_ARTIFACTS") or tmp_path_factory.getbasetemp())
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_every_page_renders_in_chromium(
    dashboard: str, screenshots: Path, record_property: Callable[[str, object], None]
) -> None:
    from playwright.sync_api import sync_playwright

    record_property("screenshots", str(screenshots))  # in the JUnit XML; `-rP` prints the paths below too

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            for index, (name, title, _) in enumerate(PAGES):
                page.goto(f"{dashboard}/{'' if index == 0 else name}")
                page.get_by_role("heading", level=1).first.wait_for(timeout=30_000)
                charts = page.locator('[data-testid="stVegaLiteChart"]')
                drawn = charts.locator("canvas, svg.marks")
                page.wait_for_function(
                    'n => document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas,'
                    ' [data-testid="stVegaLiteChart"] svg.marks\').length >= n',
                    arg=CHARTS[name],
                    timeout=30_000,
                )
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
                path = screenshots / f"{name}.png"
                page.screenshot(path=str(path))
                print(f"screenshot of {title}: {path}")
                assert page.locator('[data-testid="stException"]').count() == 0, name
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, name
                text = page.locator('[data-testid="stMain"]').inner_text()
                assert "Traceback" not in text, name
                assert page.get_by_role("heading", level=1).first.inner_text().startswith(title.split()[0]), name
                assert charts.count() == CHARTS[name] and drawn.count() == CHARTS[name], name
        finally:
            browser.close()
