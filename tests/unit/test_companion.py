"""Companion: a side task's failure always reaches the flow that started it."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from services.common.companion import Companion


class Boom(Exception):
    pass


async def fail_soon() -> None:
    await asyncio.sleep(0.01)
    raise Boom("the heartbeat broke")


async def fail_at_once() -> None:
    raise Boom("at once")


async def run_forever(seen: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        seen.append("cancelled")
        raise


async def test_a_failing_companion_interrupts_the_block_and_its_failure_is_raised() -> None:
    steps: list[str] = []

    async def copy() -> None:
        async with Companion(fail_soon(), name="heartbeat"):
            await asyncio.sleep(3600)  # a long copy
            steps.append("copied")

    async with asyncio.timeout(5):
        with pytest.raises(Boom, match="the heartbeat broke"):
            await copy()
    assert steps == []
    current = asyncio.current_task()
    assert current is not None
    assert current.cancelling() == 0  # the cancellation it caused is taken back
    await asyncio.sleep(0.01)  # and nothing is left to cancel this task later


async def test_the_block_sees_the_interruption_as_a_cancellation() -> None:
    seen: list[str] = []

    async def copy() -> None:
        async with Companion(fail_soon(), name="heartbeat"):
            await run_forever(seen)

    async with asyncio.timeout(5):
        with pytest.raises(Boom) as raised:
            await copy()
    assert seen == ["cancelled"]  # so the block can clean up (e.g. delete a staged file)
    assert isinstance(raised.value.__context__, asyncio.CancelledError)


async def test_a_failure_as_the_block_ends_is_raised_after_it() -> None:
    steps: list[str] = []

    async def copy() -> None:
        async with Companion(fail_at_once(), name="heartbeat"):
            await asyncio.sleep(0)  # the companion fails; the block ends in the same turn
            steps.append("copied")

    with pytest.raises(Boom, match="at once"):
        await copy()
    assert steps == ["copied"]
    await asyncio.sleep(0.01)  # the late done callback cancels nothing


async def test_the_companion_is_cancelled_and_awaited_when_the_block_ends() -> None:
    seen: list[str] = []
    async with Companion(run_forever(seen), name="heartbeat") as task:
        await asyncio.sleep(0.01)
    assert task.cancelled()
    assert seen == ["cancelled"]


async def test_the_blocks_own_failure_propagates_and_the_companion_ends() -> None:
    seen: list[str] = []
    tasks: list[asyncio.Task[object]] = []

    async def copy() -> None:
        async with Companion(run_forever(seen), name="heartbeat") as task:
            tasks.append(task)
            await asyncio.sleep(0.01)
            raise KeyError("disk")

    with pytest.raises(KeyError):
        await copy()
    assert tasks[0].cancelled()
    assert seen == ["cancelled"]


async def test_a_companion_that_returns_leaves_the_block_alone() -> None:
    async def done_early() -> str:
        return "lease lost"

    steps: list[str] = []
    async with Companion(done_early(), name="heartbeat") as task:
        await asyncio.sleep(0.05)
        steps.append("copied")
    assert steps == ["copied"]
    assert task.result() == "lease lost"


async def test_a_cancellation_from_outside_is_never_swallowed() -> None:
    seen: list[str] = []
    started = asyncio.Event()

    async def flow() -> None:
        async with Companion(run_forever(seen), name="heartbeat"):
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(flow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


async def test_a_companion_failing_while_the_flow_is_cancelled_is_logged() -> None:
    started = asyncio.Event()

    async def breaks_when_stopped() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise Boom("while stopping") from None

    async def flow() -> None:
        async with Companion(breaks_when_stopped(), name="heartbeat"):
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(flow())
    await started.wait()
    with structlog.testing.capture_logs() as logs:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # the shutdown goes on ...
    failed = [e for e in logs if e["event"] == "companion.failed"]  # ... and the failure is told
    assert len(failed) == 1
    assert isinstance(failed[0]["exc_info"], Boom)
