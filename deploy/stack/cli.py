"""`ims-stack`: the local real stack (Kafka, PostgreSQL, the four services) in one command."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from deploy.stack import kafka
from deploy.stack import stack as stack_ops
from deploy.stack.aio import run_sync
from deploy.stack.config import DEFAULT_HTTP_PORTS, StackConfig, default_state_dir
from deploy.stack.dead_letters import commands as dead_letter_commands
from deploy.stack.keys import write_private
from deploy.stack.process import StackError, tail
from deploy.stack.state import StackState

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(dead_letter_commands, name="dead-letters")
console = Console()
err = Console(stderr=True)

StateDir = Annotated[Path | None, typer.Option(help="State dir [env IMS_STATE_DIR; .ims/]")]


def _state_dir(option: Path | None) -> Path:
    return option.resolve() if option else default_state_dir()


def _say(message: str) -> None:
    console.print(f"[dim]·[/dim] {message}")


def _http_ports() -> dict[str, int]:
    """IMS_<SERVICE>_HTTP_PORT overrides the default port of one service."""
    return {
        name: int(os.environ.get(f"IMS_{name.upper()}_HTTP_PORT", port))
        for name, port in DEFAULT_HTTP_PORTS.items()
    }


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/bold red] {exc}")
    return typer.Exit(1)


@app.command()
def up(
    state_dir: StateDir = None,
    no_services: Annotated[
        bool, typer.Option("--no-services", help="Only Kafka, PostgreSQL, database, topics")
    ] = False,
    kafka_port: Annotated[int, typer.Option(envvar="IMS_KAFKA_PORT")] = 9092,
    controller_port: Annotated[int, typer.Option(envvar="IMS_KAFKA_CONTROLLER_PORT")] = 9093,
    pg_port: Annotated[int, typer.Option(envvar="IMS_PG_PORT")] = 54329,
    database: Annotated[str, typer.Option(envvar="IMS_DATABASE")] = "ims",
    topic_prefix: Annotated[str, typer.Option(envvar="IMS_TOPIC_PREFIX")] = "",
    gateway_port: Annotated[int, typer.Option(envvar="IMS_GATEWAY_PORT")] = 8080,
) -> None:
    """Start everything (idempotent: what already runs is kept)."""
    cfg = StackConfig(
        _state_dir(state_dir),
        kafka_port,
        controller_port,
        pg_port,
        database,
        topic_prefix,
        http_ports=_http_ports(),
        gateway_port=gateway_port,
    )
    started = time.monotonic()
    try:
        state = stack_ops.up(cfg, with_services=not no_services, say=_say)
    except StackError as exc:
        raise _fail(exc) from exc
    console.print(
        f"[green]up[/green] in {time.monotonic() - started:.1f}s (state: {cfg.state_file})"
    )
    _print_status(Path(state.state_dir))


@app.command()
def fetch() -> None:
    """Fetch the Kafka jars into the jar cache (skipped when complete)."""
    cfg = StackConfig(default_state_dir())
    try:
        kafka.ensure_jars(cfg.jar_dir)
    except StackError as exc:
        raise _fail(exc) from exc
    console.print(f"kafka jars: {cfg.jar_dir}")


@app.command()
def down(state_dir: StateDir = None) -> None:
    """Stop the services, Kafka and PostgreSQL (data is kept)."""
    try:
        state = stack_ops.down(_state_dir(state_dir), say=_say)
    except StackError as exc:
        raise _fail(exc) from exc
    console.print("nothing to stop" if state is None else "[green]down[/green]")


@app.command()
def status(state_dir: StateDir = None) -> None:
    """What runs, with pid and port."""
    _print_status(_state_dir(state_dir))


def _print_status(state_dir: Path) -> None:
    rows = stack_ops.status(state_dir)
    if not rows:
        console.print(f"no stack in {state_dir}")
        return
    table = Table("component", "pid", "port", "alive")
    table.add_column("log", overflow="fold")
    for row in rows:
        alive = "[green]yes[/green]" if row.alive else "[red]no[/red]"
        table.add_row(row.name, str(row.pid or "-"), str(row.port or "-"), alive, row.log)
    console.print(table)


@app.command()
def logs(
    component: Annotated[str | None, typer.Argument(help="kafka, postgres or a service")] = None,
    follow: Annotated[bool, typer.Option("-f", "--follow")] = False,
    lines: Annotated[int, typer.Option("-n", "--lines")] = 40,
    state_dir: StateDir = None,
) -> None:
    """Show (or follow) the logs of one component or of all."""
    rows = stack_ops.status(_state_dir(state_dir))
    chosen = [r for r in rows if component in (None, r.name)]
    if not chosen:
        known = ", ".join(r.name for r in rows) or "none: run `ims-stack up`"
        raise _fail(StackError(f"unknown component {component!r} (known: {known})"))
    for row in chosen:
        console.rule(row.name)
        typer.echo(tail(Path(row.log), lines))
    if follow:
        _follow({r.name: Path(r.log) for r in chosen})


def _follow(files: dict[str, Path]) -> None:
    """tail -f over several files until Ctrl-C."""
    offsets = {name: path.stat().st_size if path.exists() else 0 for name, path in files.items()}
    try:
        while True:
            for name, path in files.items():
                if not path.exists():
                    continue
                with path.open("rb") as f:
                    f.seek(offsets[name])
                    chunk = f.read()
                    offsets[name] = f.tell()
                for line in chunk.decode(errors="replace").splitlines():
                    typer.echo(f"{name} | {line}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


@app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete the state dir")] = False,
    purge_cache: Annotated[bool, typer.Option(help="Also delete the Kafka jar cache")] = False,
    state_dir: StateDir = None,
) -> None:
    """Stop everything and delete the state dir (all data, secrets and logs)."""
    target = _state_dir(state_dir)
    if not yes:
        raise _fail(StackError(f"this deletes {target}: pass --yes to confirm"))
    try:
        stack_ops.reset(target, keep_cache=not purge_cache, say=_say)
    except StackError as exc:
        raise _fail(exc) from exc


@app.command()
def provision(
    kafka_bootstrap: Annotated[str, typer.Option(envvar="IMS_KAFKA_BOOTSTRAP")],
    admin_dsn: Annotated[
        str,
        typer.Option(
            envvar="IMS_ADMIN_DSN",
            help="postgresql:// URL of a role that may create databases and roles",
        ),
    ],
    database: Annotated[str, typer.Option(envvar="IMS_DATABASE")] = "ims",
    topic_prefix: Annotated[str, typer.Option(envvar="IMS_TOPIC_PREFIX")] = "",
    replication_factor: Annotated[int, typer.Option(min=1)] = 1,
    role_secret: Annotated[
        str | None,
        typer.Option(
            envvar="IMS_ROLE_SECRET",
            help="What the service roles' passwords derive from [default: the admin password]",
        ),
    ] = None,
    kafka_admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="IMS_KAFKA_ADMIN_PASSWORD",
            help="The broker's super user `admin` (SCRAM): then every principal's user "
            "and the ACLs are set too [default: an open broker]",
        ),
    ] = None,
    wait_seconds: Annotated[
        float, typer.Option(help="How long to wait for Kafka and PostgreSQL to answer")
    ] = 0.0,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the DSNs, topics and Kafka passwords as one JSON line"),
    ] = False,
    json_file: Annotated[
        Path | None,
        typer.Option(
            help="Write that JSON to this file (owner-only) instead: secrets stay out of "
            "the job's output (a container's log)"
        ),
    ] = None,
) -> None:
    """Create the topics, the database and the service roles on a Kafka and PostgreSQL
    that run elsewhere (idempotent), and on an authenticating broker the principals' users
    and ACLs; prints each service's IMS_DATABASE_URL (with --json also its Kafka login:
    secrets, so pass the output only to what starts the services)."""
    from deploy.stack.external import provision_external

    try:
        done = run_sync(
            lambda: provision_external(
                kafka_bootstrap,
                admin_dsn,
                database=database,
                topic_prefix=topic_prefix,
                replication_factor=replication_factor,
                role_secret=role_secret,
                kafka_admin_password=kafka_admin_password,
                wait_s=wait_seconds,
            )
        )
    except (StackError, OSError) as exc:
        raise _fail(exc) from exc
    if json_file is not None:
        write_private(json_file, json.dumps(dataclasses.asdict(done), sort_keys=True))
        console.print(f"{len(done.topics)} topics, database {done.database}: {json_file}")
        return
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(done), sort_keys=True))
        return
    console.print(f"{len(done.topics)} topics, database {done.database}")
    for service, dsn in done.dsns.items():
        typer.echo(f"{service}: IMS_DATABASE_URL={dsn}")


def _stack_state(state_dir: Path | None) -> StackState:
    state = StackState.load(_state_dir(state_dir))
    if state is None:
        raise _fail(StackError("no stack: run `ims-stack up` first"))
    return state


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="The account's name, as the token names it")],
    account_id: Annotated[UUID, typer.Option(help="The account the token is for")],
    admin: Annotated[bool, typer.Option(help="With the platform administrator role")] = False,
    ttl_hours: Annotated[float, typer.Option(min=0.01, max=24)] = 12,
    state_dir: StateDir = None,
) -> None:
    """Print a bearer token for any account, signed by the stack's local issuer."""
    issuer = _stack_state(state_dir).issuer()
    roles = ("admin",) if admin else ()
    typer.echo(issuer.token(account_id, name, roles=roles, ttl=timedelta(hours=ttl_hours)))


@app.command("rotate-signing-key")
def rotate_signing_key(state_dir: StateDir = None) -> None:
    """Add a new token signing key; tokens of the old one keep verifying until it is
    retired (the services read the key set again within a minute)."""
    state = _stack_state(state_dir)
    issuer = state.issuer()
    kid = issuer.rotate()
    state.save_issuer(issuer)
    console.print(f"signing with {kid}; still verifying: {', '.join(issuer.keys)}")


@app.command("retire-signing-key")
def retire_signing_key(
    kid: Annotated[str, typer.Argument(help="The kid to retire")], state_dir: StateDir = None
) -> None:
    """Remove a signing key from the key set: its tokens stop verifying within a minute."""
    state = _stack_state(state_dir)
    issuer = state.issuer()
    try:
        issuer.retire(kid)
    except (KeyError, ValueError) as exc:
        raise _fail(StackError(f"cannot retire {kid}: {exc}")) from exc
    state.save_issuer(issuer)
    console.print(f"retired {kid}; verifying: {', '.join(issuer.keys)}")


@app.command()
def demo(state_dir: StateDir = None) -> None:
    """Walk through the product against the running stack."""
    from deploy.stack.demo import run_demo  # the demo is heavier; load it only when asked

    state = StackState.load(_state_dir(state_dir))
    if state is None:
        raise _fail(StackError("no stack: run `ims-stack up` first"))
    try:
        run_demo(state)
    except StackError as exc:
        raise _fail(exc) from exc
