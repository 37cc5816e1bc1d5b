"""The browser tests' session: one console world (services, gateway, demo data) and one
headless Chromium (Debian's, driven by Playwright's async API: the sync API cannot run
inside pytest-asyncio's loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

from tests.browser.world import Person, World, console_world

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 15_000  # every expectation's bound: generous for 2 loaded cores


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """They need the real stack, as the integration tests do."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with console_world(tmp_path_factory.mktemp("console")) as started:
        yield started


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


class Tab:
    """One person's console in its own browser context, with every request it made."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._sent)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _sent(self, request: Request) -> None:
        self.requests.append(f"{request.method} {request.url}")


OpenConsole = Callable[[Person, str], Awaitable[Tab]]


@pytest.fixture
async def open_console(world: World, browser: Browser) -> AsyncIterator[OpenConsole]:
    """Opens ``#token=<token>`` then a page (``#/images?tab=...``), as a script would."""
    contexts = []

    async def open_(person: Person, route: str = "#/images") -> Tab:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        tab = Tab(await context.new_page())
        await tab.page.goto(f"{world.url}/#token={person.token}")
        await tab.page.wait_for_function("location.hash === '#/images'")
        if route != "#/images":
            await tab.page.evaluate("route => { location.hash = route; }", route)
        return tab

    yield open_
    for context in contexts:
        await context.close()
