"""Run a coroutine from synchronous code, even when the caller's thread has a running loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run `factory()` to completion on a fresh loop in a worker thread.

    A worker thread keeps the caller's event loop (e.g. pytest-asyncio's session loop)
    untouched: `asyncio.run` in the caller's thread would unset it.
    """

    async def main() -> T:
        return await factory()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ims-stack") as pool:
        return pool.submit(asyncio.run, main()).result()
