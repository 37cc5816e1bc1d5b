"""The prompt pushed: open streams of each account's 是否接受镜像 prompt (server-sent events).

The prompt publisher (:mod:`services.notifier.jobs`) NOTIFYs channel
``notifier_prompt_versions`` with the accounts whose prompt has a new version, in the
transaction that emits SharePromptUpdated. One LISTEN connection per process (opened with
the first stream) wakes that account's streams; each reads the prompt again and sends it
when it differs from what it last sent. A stream also reads it at every heartbeat, so a
lost notification (or a LISTEN connection lost and opened again) only delays a change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from services.notifier.store import PROMPT_STREAM_CHANNEL

HEARTBEAT_S = 15.0  # under any proxy's idle timeout; also the re-read that covers a lost NOTIFY
MAX_STREAMS_PER_ACCOUNT = 8  # a person's tabs and devices; more is a leak or abuse

_log = structlog.get_logger(__name__)

# The account's prompt as the stream sends it (JSON text), given the account.
ReadPrompt = Callable[[UUID], Awaitable[str]]


class TooManyStreams(Exception):
    """The account already has ``MAX_STREAMS_PER_ACCOUNT`` open streams in this process."""


@dataclass(eq=False)
class _Subscriber:
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class PromptHub:
    """The open streams of one process, by account, and the LISTEN that wakes them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        max_per_account: int = MAX_STREAMS_PER_ACCOUNT,
    ) -> None:
        self._pool = pool
        self.heartbeat_s = heartbeat_s
        self.max_per_account = max_per_account
        self._subscribers: dict[UUID, set[_Subscriber]] = defaultdict(set)
        self._listener: PoolConnectionProxy[asyncpg.Record] | None = None
        self._lock = asyncio.Lock()
        self.stopping = asyncio.Event()  # set when the server shuts down: streams end

    def open_streams(self, account_id: UUID) -> int:
        return len(self._subscribers.get(account_id, ()))

    async def _ensure_listening(self) -> None:
        async with self._lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            conn = await self._pool.acquire()
            try:
                await conn.add_listener(PROMPT_STREAM_CHANNEL, self._on_notify)
            except BaseException:
                await self._pool.release(conn)
                raise
            conn.add_termination_listener(self._on_lost)
            self._listener = conn

    def _on_lost(self, _: object) -> None:
        self._listener = None  # the next stream or heartbeat listens again
        self._wake_all()

    def _on_notify(
        self,
        _conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any],
        _pid: int,
        _channel: str,
        payload: object,
    ) -> None:
        for raw in str(payload).split(","):
            try:
                account = UUID(raw)
            except ValueError:
                continue
            for subscriber in self._subscribers.get(account, ()):
                subscriber.changed.set()

    def _wake_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.changed.set()

    def close(self) -> None:
        """End every stream (server shutdown); they send nothing more and return."""
        self.stopping.set()
        self._wake_all()

    async def release(self) -> None:
        """Give the LISTEN connection back (after the streams ended)."""
        conn, self._listener = self._listener, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.remove_listener(PROMPT_STREAM_CHANNEL, self._on_notify)
                await self._pool.release(conn)

    def reserve(self, account_id: UUID) -> _Subscriber:
        """A place for one more stream of the account (before the response starts, so a
        refusal is a problem document, not a broken stream)."""
        if self.open_streams(account_id) >= self.max_per_account:
            raise TooManyStreams
        subscriber = _Subscriber()
        self._subscribers[account_id].add(subscriber)
        return subscriber

    def _leave(self, account_id: UUID, subscriber: _Subscriber) -> None:
        subscribers = self._subscribers.get(account_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[account_id]

    async def events(
        self, account_id: UUID, subscriber: _Subscriber, read: ReadPrompt
    ) -> AsyncIterator[str]:
        """The stream's text: the prompt at once, then each change, heartbeats between."""
        try:
            yield "retry: 3000\n\n"  # how long a client waits before reconnecting
            last: str | None = None
            while not self.stopping.is_set():
                try:
                    await self._ensure_listening()
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                    _log.warning("prompt_stream.listen_failed", error=str(exc))
                subscriber.changed.clear()  # before reading: a change during it wakes again
                current = await read(account_id)
                if current != last:
                    yield f"event: prompt\ndata: {current}\n\n"
                    last = current
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscriber.changed.wait(), self.heartbeat_s)
                    continue
                yield ": heartbeat\n\n"
        finally:
            self._leave(account_id, subscriber)
