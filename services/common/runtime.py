"""Running one service process: faust stream app, outbox relay, background jobs, HTTP API.

Each service describes itself as a :class:`ServiceDefinition`; :func:`serve` wires the
shared mechanics around it and runs until SIGTERM/SIGINT, then stops in reverse order.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import asyncpg
import faust
import structlog
import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from services.common.consumer import EventProcessor
from services.common.db import create_pool
from services.common.handlers import Handlers
from services.common.housekeeping import Retention, run_housekeeping
from services.common.http import create_http_app
from services.common.http_processes import listening_socket, run_helpers
from services.common.relay import OutboxRelay, create_producer
from services.common.settings import ServiceSettings
from services.common.stream import app_id, create_app, subscribe
from services.common.tokens import verifier_of
from services.common.uow import StoreFactory, UnitOfWorkFactory

_log = structlog.get_logger(__name__)

S = TypeVar("S")

BackgroundJob = Callable[[UnitOfWorkFactory[S]], Coroutine[Any, Any, None]]
RouteInstaller = Callable[[FastAPI, UnitOfWorkFactory[S]], None]


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """What makes one service different from the others: its name, its store, its event
    handlers, its HTTP routes and its background jobs."""

    name: str
    store: StoreFactory[S]
    handlers: Handlers[S]
    install_routes: RouteInstaller[S] | None = None
    background: Sequence[BackgroundJob[S]] = field(default_factory=tuple)

    def uow_factory(self, pool: asyncpg.Pool, settings: ServiceSettings) -> UnitOfWorkFactory[S]:
        return UnitOfWorkFactory(
            pool, source=f"/ims/{self.name}", topic_prefix=settings.topic_prefix, store=self.store
        )


async def serve(definition: ServiceDefinition[S], settings: ServiceSettings) -> None:
    """Run the whole service until SIGTERM/SIGINT or until a component fails."""
    pool = await _pool(definition.name, settings)
    producer = create_producer(
        settings.kafka_bootstrap,
        settings.kafka_request_timeout_seconds,
        settings.kafka_credentials(),
    )
    await producer.start()
    uow_factory = definition.uow_factory(pool, settings)
    stream_app = _stream_app(definition, settings, uow_factory)
    tasks = _background_tasks(definition, settings, pool, producer, uow_factory)
    await stream_app.start()
    # faust stops itself when it crashes; then this process must exit, not run on deaf.
    tasks.append(asyncio.create_task(stream_app.wait_until_stopped(), name="faust"))
    http = _http_server(definition, settings, pool)
    if http is not None:
        tasks += _http_tasks(definition.name, settings, http)
    _log.info("service.started", http_port=settings.http_port)
    try:
        await _until_stopped_or_failed(_stop_signal(), tasks)
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


async def _pool(name: str, settings: ServiceSettings) -> asyncpg.Pool:
    return await create_pool(
        settings.database_url,
        name,
        max_size=settings.db_pool_max,
        idle_in_transaction_timeout_s=settings.db_idle_in_transaction_timeout_seconds,
    )


def _stream_app(
    definition: ServiceDefinition[S], settings: ServiceSettings, uow_factory: UnitOfWorkFactory[S]
) -> faust.App:
    """The faust app whose one agent hands every record to the idempotent consumer."""
    stream_app = create_app(
        definition.name,
        bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topic_prefix,
        data_dir=str(settings.data_dir),
        session_timeout=settings.kafka_session_timeout_seconds,
        credentials=settings.kafka_credentials(),
    )
    processor = EventProcessor(
        uow_factory,
        consumer=app_id(definition.name, settings.topic_prefix),
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
    return stream_app


def _background_tasks(
    definition: ServiceDefinition[S],
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    uow_factory: UnitOfWorkFactory[S],
) -> list[asyncio.Task[Any]]:
    """The outbox relay, housekeeping and the service's own jobs, started."""
    relay = OutboxRelay(
        pool, producer, schema=definition.name, ack_timeout=settings.kafka_request_timeout_seconds
    )
    retention = Retention(
        sent_outbox=timedelta(hours=settings.outbox_retention_hours),
        inbox=timedelta(days=settings.inbox_retention_days),
    )
    tasks = [
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(run_housekeeping(pool, retention), name="housekeeping"),
    ]
    return tasks + [
        asyncio.create_task(job(uow_factory), name=f"job-{i}")
        for i, job in enumerate(definition.background)
    ]


def _http_tasks(
    name: str, settings: ServiceSettings, http: uvicorn.Server
) -> list[asyncio.Task[Any]]:
    tasks = [asyncio.create_task(http.serve(_sockets(settings)), name="http")]
    if settings.http_processes > 1:
        helpers = run_helpers(name, settings.http_processes - 1)
        tasks.append(asyncio.create_task(helpers, name="http-helpers"))
    return tasks


def _stop_signal() -> asyncio.Event:
    """Set on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_http(definition: ServiceDefinition[S], settings: ServiceSettings) -> None:
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
    definition: ServiceDefinition[S], settings: ServiceSettings, pool: asyncpg.Pool
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
    app.state.token_verifier = verifier_of(settings)
    if definition.install_routes is not None:
        definition.install_routes(app, definition.uow_factory(pool, settings))
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,  # a stream that ignores the stop is cut after this
    )
    return _Server(config, app)


class _Server(uvicorn.Server):
    """uvicorn, telling the app's long responses (``app.state.on_stopping``: e.g. the
    notifier's prompt streams) to end before it waits for its connections to close."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for hook in getattr(self._app.state, "on_stopping", ()):
            hook()
        await super().shutdown(sockets)
