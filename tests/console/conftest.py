"""Browser tests: Playwright (PyPI) driving Debian's Chromium against a live server.

Playwright's own browser download cannot reach the internet here, so the tests use
/usr/bin/chromium (`apt-get install chromium`; .ci/run installs it) and skip with that
reason when it is missing. CI never skips them (PHYSIOTRACK_REQUIRE_BROWSER=1 turns the
skip into a failure).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PHYSIOTRACK_CHROMIUM", "/usr/bin/chromium")
SCREENS_DIR = Path(os.environ.get("PHYSIOTRACK_SCREENS_DIR", ".run/screens"))
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _browser_missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make install)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("PHYSIOTRACK_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Any, username: str, password: str) -> None:
    """Signs in through the console's form, as a person does."""
    page.goto("/console/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Any, name: str) -> list[Path]:
    """Full-page PNGs of the current page at desktop and tablet width under .run/screens/
    (`make screens`), for a person to look at; the viewport is restored afterwards."""
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    paths = []
    for label, size in (("desktop", DESKTOP), ("tablet", TABLET)):
        page.set_viewport_size(size)
        path = SCREENS_DIR / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size(before)
    return paths


AXE_SOURCE = Path(__file__).with_name("vendor").joinpath("axe-4.14.1.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core (vendored from its npm package) run in the page: the violations of `impacts`.

    `evaluate` goes through the DevTools protocol, so the page's CSP does not block it.
    """
    page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [v for v in result["violations"] if v["impact"] in impacts]


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
    )
