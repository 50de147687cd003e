"""The app on a real port, one Chromium for the session, and a fresh tab per test."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.api_app import ranking_graph_app
from tests.browser import CHROMIUM, Site

ARTIFACTS = Path(os.environ.get("CDSS_TEST_ARTIFACTS") or Path(__file__).parents[1] / "artifacts")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app of `tests/api_app.py` (real engine and NLP pipeline) served over HTTP, with a read key."""
    app, services = ranking_graph_app(tmp_path_factory.mktemp("web"))
    key = services.keys.create("browser", ["read"])[1]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", key)
    server.shutdown()
    thread.join()
    services.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium; Playwright's own browser download is not used."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        except Error as error:
            first = error.message.splitlines()[0]
            pytest.skip(f"browser tests skipped: Chromium at {CHROMIUM} does not start: {first}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab; its screenshot is kept as a test artifact, and an uncaught script error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    errors: list[Exception] = []
    tab.on("pageerror", lambda error: errors.append(error))
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.evaluate("window.scrollTo(0, 0)")
    tab.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    assert not errors, f"the page raised: {errors}"
