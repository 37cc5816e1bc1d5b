"""The screenshots of docs/console.md, taken of the real console against a fresh world:
``flock /tmp/ims-heavy.lock timeout 900 .venv/bin/python -m tests.browser.screenshots``
writes docs/console/*.png (about a minute)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

from tests.browser.conftest import CHROMIUM, WAIT_MS
from tests.browser.world import Person, World, console_world

OUT = Path(__file__).resolve().parents[2] / "docs" / "console"


async def _open(world: World, page: Page, person: Person, route: str) -> None:
    await page.goto(f"{world.url}/#token={person.token}")
    await page.wait_for_function("location.hash === '#/images'")
    await page.evaluate("route => { location.hash = route; }", route)


async def _shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    # A modal dialog's backdrop covers the viewport only: its shot is the viewport.
    await page.screenshot(path=OUT / f"{name}.png", full_page=full_page)
    print(f"docs/console/{name}.png")


async def take(world: World) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()

        await page.goto(f"{world.url}/")
        await expect(page.get_by_role("button", name="登录: alice")).to_be_visible()
        await _shoot(page, "signin")

        await page.get_by_role("button", name="登录: alice").click()
        await expect(page.locator("#list tr", has_text="web-golden")).to_be_visible()
        await _shoot(page, "images")

        await page.evaluate("location.hash = '#/create'")
        await expect(page.locator("tr[data-host=ecs-db-01]")).to_contain_text("请先关机")
        await page.locator("#c-name").fill("win-golden")
        await page.locator("tr[data-host=ecs-win-01] input[name=host]").check()
        await _shoot(page, "create")
        await page.get_by_role("button", name="确定").click()
        await expect(page.locator("#facts dd[data-field=status]")).to_have_text(
            "正常", timeout=90_000
        )
        await _shoot(page, "detail-windows")

        listed = world.call(world.alice, "GET", "/v1/images", params={"name": "web-golden"})
        golden = listed.json()["items"][0]["id"]
        await page.evaluate(f"location.hash = '#/images/{golden}?edit=1'")
        await page.locator("#edit-name").fill("bad/name")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator("#name-error")).to_be_visible()
        await _shoot(page, "modify")

        bob = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await _open(world, bob, world.bob, "#/images?tab=shared")
        await page.evaluate(f"location.hash = '#/images/{golden}'")
        await page.locator("#share").click()
        await page.locator("#share-account").fill("bob")
        await page.locator("#share-ok").click()
        await expect(page.locator("#share-summary")).to_contain_text("已有租户1个")
        await _shoot(page, "share", full_page=False)
        await expect(bob.locator("#prompt")).to_contain_text("web-golden")
        await _shoot(bob, "prompt")
        await bob.locator("#prompt").get_by_role("button", name="全部接受").click()
        await expect(bob.locator("#list")).to_contain_text("web-golden")
        await _shoot(bob, "shared")
        await bob.evaluate("location.hash = '#/notices'")
        await expect(bob.locator("#notices > ul, #notices > p")).to_be_visible()
        await _shoot(bob, "notices")

        await page.get_by_role("button", name="关闭").click()
        await page.reload()
        await expect(page.locator("#tenants")).to_contain_text("bob")
        await _shoot(page, "tenants")

        await page.get_by_role("button", name="English").click()
        await page.evaluate("location.hash = '#/images?tab=private'")
        await expect(page.locator("#quota")).to_contain_text("You can create")
        await _shoot(page, "images-en")
        await browser.close()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ims-shots-") as tmp:
        started = time.monotonic()
        async with console_world(Path(tmp)) as world:
            await take(world)
        print(f"done in {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    asyncio.run(main())
