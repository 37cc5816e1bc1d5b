"""`ims-images`: build the IMS, Kafka and PostgreSQL images; run a private Docker engine."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from deploy.containers import engine as engines
from deploy.containers.build import build_all
from deploy.containers.docker_cli import DockerCli
from deploy.containers.testkit_wheel import build_testkit_wheel
from deploy.stack.process import StackError

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
engine_app = typer.Typer(help="The private Docker engine (started only when none answers).")
app.add_typer(engine_app, name="engine")
console = Console()
err = Console(stderr=True)


def _say(message: str) -> None:
    console.print(f"[dim]·[/dim] {message}")


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {exc}")
    return typer.Exit(1)


@app.command()
def build(
    base: Annotated[
        str,
        typer.Option(
            envvar="IMS_IMAGE_BASE",
            help='"local" (a Debian base made here with debootstrap), "official" '
            "(python:3.11-slim-bookworm, debian:bookworm-slim) or an image to build on",
        ),
    ] = "local",
) -> None:
    """Build the three images, reusing every one already built; prints their tags."""
    started = time.monotonic()
    try:
        engine = engines.ensure_engine()
        refs = build_all(DockerCli(engine.host), base, say=_say)
    except StackError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]built[/green] in {time.monotonic() - started:.1f}s on {engine.host}")
    for key, value in refs.env().items():
        typer.echo(f"{key}={value}")
    if engine.started:
        console.print(f"the engine keeps running: DOCKER_HOST={engine.host}")


@app.command("testkit-wheel")
def make_testkit_wheel(
    out: Annotated[Path, typer.Option("-o", "--out", help="Directory for the wheel")] = Path(
        "dist"
    ),
) -> None:
    """Build the ims-testkit wheel (ims_testkit with the event models) for other teams."""
    try:
        wheel = build_testkit_wheel(out.resolve())
    except StackError as exc:
        raise _fail(exc) from exc
    typer.echo(str(wheel))


@engine_app.command("start")
def engine_start() -> None:
    """Start the private engine unless an engine answers already; prints DOCKER_HOST."""
    try:
        engine = engines.ensure_engine()
    except StackError as exc:
        raise _fail(exc) from exc
    typer.echo(f"DOCKER_HOST={engine.host}")


@engine_app.command("stop")
def engine_stop() -> None:
    """Stop the private engine (never another one) and report anything it left behind."""
    paths = engines.EnginePaths(engines.default_root())
    pid = engines.our_pid(paths)
    if pid is None:
        console.print("the private engine is not running")
        return
    left = engines.stop_engine(engines.Engine(paths.host, True, paths, pid))
    if left:
        raise _fail(StackError("left behind:\n" + "\n".join(left)))
    console.print("[green]stopped[/green]")


@engine_app.command("status")
def engine_status() -> None:
    """Which engine answers, if any."""
    paths = engines.EnginePaths(engines.default_root())
    host = engines.running_engine(dict(os.environ), paths)
    typer.echo(f"DOCKER_HOST={host}" if host else "no engine answers")
