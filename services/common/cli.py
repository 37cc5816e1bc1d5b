"""The command line of every service: ``python -m services.<name> run|migrate``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
import uvloop
from pydantic import ValidationError

from services.common.logging import configure_logging
from services.common.migrate import upgrade
from services.common.runtime import ServiceDefinition, serve, serve_http
from services.common.settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def service_cli(
    name: str,
    settings_type: type[SettingsT],
    build: Callable[[SettingsT], ServiceDefinition[Any]],
    migrations: Path,
) -> typer.Typer:
    cli = typer.Typer(help=f"IMS {name} service", no_args_is_help=True, add_completion=False)

    def load_settings() -> SettingsT:
        try:
            settings = settings_type()
        except ValidationError as exc:
            problems = "; ".join(
                f"IMS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
                if e["loc"]
                else e["msg"]
                for e in exc.errors()
            )
            typer.echo(f"{name}: configuration error: {problems}", err=True)
            sys.exit(2)
        configure_logging(name, settings.log_level, settings.log_json)
        return settings

    @cli.command()
    def run() -> None:
        """Consume events, relay the outbox and serve the HTTP API until SIGTERM."""
        settings = load_settings()
        run_loop(serve(build(settings), settings), settings)

    @cli.command()
    def http() -> None:
        """Serve only the HTTP API (a helper the service process starts, IMS_HTTP_PROCESSES)."""
        settings = load_settings()
        run_loop(serve_http(build(settings), settings), settings)

    @cli.command()
    def migrate() -> None:
        """Apply this service's schema migrations (idempotent)."""
        settings = load_settings()
        upgrade(settings.database_url, name, migrations)

    return cli


def run_loop(main: Coroutine[Any, Any, None], settings: ServiceSettings) -> None:
    """Run ``main`` on the configured event loop. uvloop (libuv) makes each socket read and
    write cheaper than asyncio's own loop, and a service does several per event; installed
    as the policy, it also runs the loop of faust's consumer thread."""
    if settings.event_loop == "uvloop":
        uvloop.install()
    asyncio.run(main)
