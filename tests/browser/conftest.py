"""Browser tests: Playwright driving Debian's Chromium, headless, against the live test server.

They skip, saying why, when Chromium is not installed (`apt-get install chromium`); `.ci/run` installs it.
Screenshots go to test-artifacts/browser/ for a person to look at. Every page is opened under the site's
Content-Security-Policy: a test whose pages make Chromium refuse anything (an inline script or style, an event handler
attribute, eval, a file from elsewhere) fails, naming what was refused.
"""

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# What Chromium writes to the console when the Content-Security-Policy blocks something.
CSP_VIOLATION = re.compile(r"Content Security Policy|Refused to")


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` to run the browser tests")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make venv)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--lang=zh-CN"],
        )
        yield browser
        browser.close()


@contextmanager
def csp_checked_context(browser, **options):
    """A browser context (options as for `new_context`) that fails, on closing, if any of its pages broke the CSP."""
    context = browser.new_context(**options)
    violations = []

    def on_console(message):
        if CSP_VIOLATION.search(message.text):
            violations.append(f"{message.text} ({message.location.get('url')})")

    context.on("console", on_console)
    try:
        yield context
    finally:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(browser):
    with csp_checked_context(browser, viewport=DESKTOP, locale="zh-CN") as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
