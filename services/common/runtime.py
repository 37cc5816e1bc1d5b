"""Running one service process: faust stream app, outbox relay, background jobs, HTTP API.

Each service describes itself as a :class:`ServiceDefinition`; :func:`serve` wires the
shared mechanics around it and runs until SIGTERM/SIGINT, then stops in reverse order.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
import uvicorn
from fastapi import FastAPI

from schemas.events import Event
from services.common.consumer import EventProcessor, Handler
from services.common.db import create_pool
from services.common.housekeeping import Retention, run_housekeeping
from services.common.http import create_http_app
from services.common.http_processes import listening_socket, run_helpers
from services.common.relay import OutboxRelay, create_producer
from services.common.settings import ServiceSettings
from services.common.stream import app_id, create_app, subscribe
from services.common.uow import UnitOfWorkFactory

_log = structlog.get_logger(__name__)

BackgroundJob = Callable[[UnitOfWorkFactory], Coroutine[Any, Any, None]]
RouteInstaller = Callable[[FastAPI, asyncpg.Pool], None]


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service different from the others."""

    name: str
    handlers: Mapping[type[Event], Handler]
    install_routes: RouteInstaller | None = None
    background: Sequence[BackgroundJob] = field(default_factory=tuple)


async def serve(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    name = definition.name
    pool = await create_pool(
        settings.database_url,
        name,
        max_size=settings.db_pool_max,
        idle_in_transaction_timeout_s=settings.db_idle_in_transaction_timeout_seconds,
    )
    producer = create_producer(settings.kafka_bootstrap, settings.kafka_request_timeout_seconds)
    await producer.start()
    relay = OutboxRelay(
        pool, producer, schema=name, ack_timeout=settings.kafka_request_timeout_seconds
    )
    uow_factory = UnitOfWorkFactory(pool, source=f"/ims/{name}", topic_prefix=settings.topic_prefix)
    stream_app = create_app(
        name,
        bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        data_dir=str(settings.data_dir),
        session_timeout=settings.kafka_session_timeout_seconds,
    )
    processor = EventProcessor(
        uow_factory,
        consumer=app_id(name, settings.topic_prefix),
        handlers=definition.handlers,
    )
    subscribe(
        stream_app,
        definition.handlers,
        processor,
        topic_prefix=settings.topic_prefix,
        batch_max=settings.consumer_batch_max,
        batch_wait=settings.consumer_batch_wait_ms / 1000,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    retention = Retention(
        sent_outbox=timedelta(hours=settings.outbox_retention_hours),
        inbox=timedelta(days=settings.inbox_retention_days),
    )
    tasks = [
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(run_housekeeping(pool, retention), name="housekeeping"),
    ]
    tasks += [
        asyncio.create_task(job(uow_factory), name=f"job-{i}")
        for i, job in enumerate(definition.background)
    ]
    await stream_app.start()
    # faust stops itself when it crashes; then this process must exit, not run on deaf.
    tasks.append(asyncio.create_task(stream_app.wait_until_stopped(), name="faust"))
    http = _http_server(definition, settings, pool)
    if http is not None:
        tasks.append(asyncio.create_task(http.serve(_sockets(settings)), name="http"))
        if settings.http_processes > 1:
            helpers = run_helpers(definition.name, settings.http_processes - 1)
            tasks.append(asyncio.create_task(helpers, name="http-helpers"))
    _log.info("service.started", http_port=settings.http_port)
    try:
        await _until_stopped_or_failed(stop, tasks)
    finally:
        _log.info("service.stopping")
        if http is not None:
            http.should_exit = True
        await stream_app.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
        await pool.close()


async def serve_http(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """Serve only the HTTP API, in a helper of a service process (``IMS_HTTP_PROCESSES``),
    until SIGTERM."""
    pool = await create_pool(settings.database_url, definition.name)
    try:
        http = _http_server(definition, settings, pool)
        assert http is not None, "a helper is only started for an HTTP port"
        await http.serve(_sockets(settings))  # uvicorn stops on SIGTERM itself
    finally:
        await pool.close()


def _sockets(settings: ServiceSettings) -> list[socket.socket] | None:
    """With helpers, every process binds the port with SO_REUSEPORT; alone, uvicorn binds."""
    if settings.http_processes == 1:
        return None
    return [listening_socket(settings.http_host, settings.http_port)]


async def _until_stopped_or_failed(stop: asyncio.Event, tasks: list[asyncio.Task[Any]]) -> None:
    """Return on a stop signal; raise if a component ends on its own (the process must die
    so its supervisor restarts it, rather than run on half-working)."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        return
    stopper.cancel()
    failed = done.pop()
    raise RuntimeError(
        f"component {failed.get_name()} stopped unexpectedly"
    ) from failed.exception()


def _http_server(
    definition: ServiceDefinition, settings: ServiceSettings, pool: asyncpg.Pool
) -> uvicorn.Server | None:
    if not settings.http_port:
        return None

    async def healthy() -> bool:
        try:
            async with pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        return True

    app = create_http_app(definition.name, healthy)
    app.state.auth_secret = settings.auth_secret
    if definition.install_routes is not None:
        definition.install_routes(app, pool)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)
