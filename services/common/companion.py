"""A side task that lives exactly as long as a block of code, and whose failure is never lost.

``task = asyncio.create_task(side()); try: ... finally: task.cancel()`` loses the side
task's exception: nobody awaits the task, so asyncio at most logs "Task exception was never
retrieved" when it is garbage-collected, and the flow that started it never learns that
(say) its heartbeat stopped. :class:`Companion` ties the task to the block instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

import structlog

_log = structlog.get_logger(__name__)


class Companion:
    """``async with Companion(side(), name=...):`` runs ``side()`` as a task beside the block.

    - The block ends first (returns or raises): the companion is cancelled and awaited.
    - The companion fails first: the block is cancelled at the ``await`` it is in, and the
      companion's exception is raised in the block's place (with whatever the block raised
      as its ``__context__``).
    - The companion returns first: the block goes on undisturbed.
    - The flow is cancelled from outside: the cancellation propagates; it is never turned
      into the companion's failure, which is then logged instead.

    Either way the companion has ended when the ``async with`` has.
    """

    def __init__(self, side: Coroutine[Any, Any, object], *, name: str) -> None:
        self._side = side
        self._name = name
        self._task: asyncio.Task[object] | None = None
        self._host: asyncio.Task[Any] | None = None
        self._watching = False
        self._cancelled_host = False

    async def __aenter__(self) -> asyncio.Task[object]:
        self._host = asyncio.current_task()
        if self._host is None:
            raise RuntimeError("a Companion runs beside a task")
        self._task = asyncio.create_task(self._side, name=self._name)
        self._task.add_done_callback(self._on_done)
        self._watching = True
        return self._task

    def _on_done(self, task: asyncio.Task[object]) -> None:
        # A done callback runs late, from the loop: once the block has ended it must not
        # cancel the flow any more (__aexit__ deals with the failure then).
        if not self._watching or task.cancelled() or task.exception() is None:
            return
        assert self._host is not None
        self._cancelled_host = True
        self._host.cancel(msg=f"companion {self._name} failed")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        assert self._host is not None
        self._watching = False
        task = self._task
        task.cancel()
        if not task.done():
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                # Cancelled while the companion winds down: it still ends (it was
                # cancelled), and what it raises on the way is logged, not lost.
                task.add_done_callback(_log_failure)
                raise
        failure = None if task.cancelled() else task.exception()
        # Take back the cancellation this companion caused; one requested by anybody
        # else must go on.
        if self._cancelled_host and self._host.uncancel() == 0 and failure is not None:
            raise failure
        if failure is None:
            return
        if self._host.cancelling() or isinstance(exc, asyncio.CancelledError):
            _log_failure(task)
            return
        raise failure


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and (failure := task.exception()) is not None:
        _log.error("companion.failed", companion=task.get_name(), exc_info=failure)
