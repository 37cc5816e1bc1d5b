"""Dead letters an operator can act on: list, show and replay (`ims-stack dead-letters`).

The letters are read from the ``DeadLetter`` topic, the one record every consumer writes
(through its outbox) when it gives up on a record: the services keep no other copy (their
inbox row says only that the id was claimed). A replay produces the original value to the
original topic with the original key, as a NEW CloudEvent (a fresh ``id``: the consumer
claimed the old one in its inbox when it dead-lettered it, and would skip it as a
duplicate). Each replay is written to a ledger in the state dir, keyed by the letter's id,
so a second replay of the same letter is refused unless asked for (``--again``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.table import Table

from deploy.stack.aio import run_sync
from deploy.stack.config import default_state_dir
from deploy.stack.kafka_access import ADMIN
from deploy.stack.state import StackState
from schemas.events import DeadLetter
from schemas.topics import OPERATOR, topic_name
from services.common.codec import InvalidEvent, decode
from services.common.kafka_auth import client_options

REPLAY_HEADER = "ims-replay-of"  # on a replayed record: the id of the letter it came from
LEDGER = "dead-letters-replayed.json"


class DeadLetterError(Exception):
    """Why a letter cannot be shown or replayed."""


@dataclass(frozen=True)
class Letter:
    """One record of the DeadLetter topic: its own event id and the letter."""

    id: UUID
    tenant: str
    data: DeadLetter

    @property
    def key(self) -> bytes | None:
        return _unb64(self.data.key_base64)

    @property
    def value(self) -> bytes | None:
        return _unb64(self.data.value_base64)


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2h``, ``30m``, ``7d`` ago, or an ISO 8601 time (UTC when it names no zone)."""
    now = now or datetime.now(UTC)
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(**{units[text[-1]]: float(text[:-1])})
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise DeadLetterError(f"--since {text!r}: not 2h, 30m, 7d or an ISO time") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def read_letters(
    client: Mapping[str, Any], *, prefix: str = "", timeout_s: float = 30.0
) -> list[Letter]:
    """Every letter on the topic, oldest first per partition (read to its end, no group:
    listing commits nothing). ``client``: aiokafka's settings, bootstrap and login (the
    operator principal reads ``DeadLetter``)."""
    topic = topic_name(DeadLetter.NAME, prefix)
    consumer = AIOKafkaConsumer(**client, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        letters: list[Letter] = []
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=int(timeout_s * 1000))
            if not batches:
                raise DeadLetterError(f"{topic}: no records within {timeout_s:.0f} s")
            for tp, records in batches.items():
                letters += [_letter(r.value) for r in records if r.value is not None]
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        return letters
    finally:
        await consumer.stop()


def _letter(value: bytes) -> Letter:
    envelope = decode(value)
    if not isinstance(envelope.data, DeadLetter):
        raise DeadLetterError(f"a {envelope.type} on the DeadLetter topic")
    return Letter(envelope.id, envelope.tenant, envelope.data)


def select(
    letters: Sequence[Letter], *, topic: str | None = None, since: datetime | None = None
) -> list[Letter]:
    """The letters of ``topic`` (its name with or without the prefix) since ``since``."""
    return [
        letter
        for letter in letters
        if (topic is None or letter.data.topic == topic or letter.data.topic.endswith(f".{topic}"))
        and (since is None or letter.data.failed_at >= since)
    ]


def find(letters: Sequence[Letter], letter_id: str) -> Letter:
    """The letter whose id is, or starts with, ``letter_id`` (as `list` shows them)."""
    matches = [letter for letter in letters if str(letter.id).startswith(letter_id.lower())]
    if len(matches) != 1:
        raise DeadLetterError(
            f"{letter_id}: {'no letter' if not matches else f'{len(matches)} letters'} with that id"
        )
    return matches[0]


def describe(letter: Letter) -> dict[str, Any]:
    """Everything about a letter, its key and value decoded when they are text."""
    body = letter.data.model_dump(mode="json")
    body["letter_id"] = str(letter.id)
    for name, raw in (("key", letter.key), ("value", letter.value)):
        try:
            body[name] = None if raw is None else raw.decode()
        except UnicodeDecodeError:
            body[name] = None  # binary: only the base64 form
    return body


# --- replay ---------------------------------------------------------------------------


class Ledger:
    """Which letters were replayed, when, and as which new event id (a JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        loaded: dict[str, dict[str, str]] = json.loads(self.path.read_text("utf-8"))
        return loaded

    def record(self, letter: Letter, new_id: UUID, at: datetime) -> None:
        entries = self.entries()
        entries.setdefault(str(letter.id), {})
        entries[str(letter.id)] = {"replayed_as": str(new_id), "at": at.isoformat()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2, sort_keys=True), "utf-8")
        tmp.replace(self.path)


def replay_value(letter: Letter, new_id: UUID) -> bytes:
    """The original value as a new CloudEvent: the same, but for its ``id``. Refused when
    the letter does not hold the whole value or it is not a CloudEvent JSON object."""
    value = letter.value
    data = letter.data
    if value is None:
        raise DeadLetterError(f"{letter.id}: the record had no value (a tombstone)")
    if data.value_truncated or hashlib.sha256(value).hexdigest() != data.value_sha256:
        raise DeadLetterError(
            f"{letter.id}: the letter keeps only {len(value)} of {data.value_size} bytes"
        )
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DeadLetterError(f"{letter.id}: the value is not JSON; fix and produce it") from exc
    if not isinstance(raw, dict) or "id" not in raw:
        raise DeadLetterError(f"{letter.id}: the value is not a CloudEvent; fix and produce it")
    raw["id"] = str(new_id)
    replayed = json.dumps(raw, separators=(",", ":")).encode()
    try:
        decode(replayed)
    except InvalidEvent as exc:
        # Bad as it stands (a new id cannot fix a broken body): say so instead of
        # dead-lettering it again.
        raise DeadLetterError(f"{letter.id}: still invalid: {exc}") from exc
    return replayed


async def replay(
    client: Mapping[str, Any], letters: Sequence[Letter], ledger: Ledger, *, again: bool = False
) -> list[tuple[Letter, UUID]]:
    """Produce each letter's value to its original topic and key with a new event id.

    ``client`` must be allowed to write those topics: only each topic's writer is, so
    replaying takes the broker's super user (the stack's admin), not the operator.

    Every letter is checked before anything is produced: one that was replayed already
    (unless ``again``) or cannot be replayed refuses the whole call."""
    done = ledger.entries()
    if not again:
        twice = [str(letter.id) for letter in letters if str(letter.id) in done]
        if twice:
            raise DeadLetterError(f"already replayed: {', '.join(twice)} (--again to repeat)")
    planned = [(letter, uuid4()) for letter in letters]
    values = [replay_value(letter, new_id) for letter, new_id in planned]
    producer = AIOKafkaProducer(**client, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for (letter, new_id), value in zip(planned, values, strict=True):
            headers = [(k.key, _unb64(k.value_base64) or b"") for k in letter.data.headers]
            headers.append((REPLAY_HEADER, str(letter.id).encode()))
            await producer.send_and_wait(
                letter.data.topic, value=value, key=letter.key, headers=headers
            )
            ledger.record(letter, new_id, datetime.now(UTC))
    finally:
        await producer.stop()
    return planned


# --- the `ims-stack dead-letters` commands ---------------------------------------------

commands = typer.Typer(help="List, show and replay dead letters.", no_args_is_help=True)
_console = Console()


def _stack(state_dir: Path | None) -> StackState:
    state = StackState.load(state_dir.resolve() if state_dir else default_state_dir())
    if state is None:
        raise _fail("no stack: run `ims-stack up` first")
    return state


def _client(state: StackState, principal: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": state.kafka_bootstrap,
        **client_options(state.kafka_credentials(principal)),
    }


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/bold red] {message}")
    return typer.Exit(1)


def _ledger(state: StackState) -> Ledger:
    return Ledger(state.path / LEDGER)


def _read(state: StackState) -> list[Letter]:
    client = _client(state, OPERATOR)
    try:
        return run_sync(lambda: read_letters(client, prefix=state.topic_prefix))
    except DeadLetterError as exc:
        raise _fail(str(exc)) from exc


StateDir = Annotated[Path | None, typer.Option(help="State dir [env IMS_STATE_DIR; .ims/]")]


@commands.command("list")
def list_letters(
    topic: Annotated[str | None, typer.Option(help="Only letters of this original topic")] = None,
    since: Annotated[str | None, typer.Option(help="Only since: 2h, 30m, 7d or ISO time")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line")] = False,
    state_dir: StateDir = None,
) -> None:
    """The dead letters, oldest first: id, when, consumer, where, reason, replayed."""
    state = _stack(state_dir)
    try:
        after = parse_since(since) if since else None
    except DeadLetterError as exc:
        raise _fail(str(exc)) from exc
    letters = select(_read(state), topic=topic, since=after)
    replayed = _ledger(state).entries()
    if as_json:
        for letter in letters:
            body = describe(letter) | {"replayed": replayed.get(str(letter.id))}
            typer.echo(json.dumps(body, sort_keys=True))
        return
    table = Table("id", "failed at", "consumer", "topic/partition@offset", "reason", "replayed")
    for letter in letters:
        d = letter.data
        table.add_row(
            str(letter.id),
            d.failed_at.isoformat(timespec="seconds"),
            d.consumer,
            f"{d.topic}/{d.partition}@{d.offset}",
            d.reason[:80],
            replayed.get(str(letter.id), {}).get("at", ""),
        )
    _console.print(table)
    _console.print(f"{len(letters)} letters")


@commands.command("show")
def show(
    letter_id: Annotated[str, typer.Argument(help="The letter's id (or its first characters)")],
    state_dir: StateDir = None,
) -> None:
    """Everything a letter holds, its key and value decoded, and whether it was replayed."""
    state = _stack(state_dir)
    try:
        letter = find(_read(state), letter_id)
    except DeadLetterError as exc:
        raise _fail(str(exc)) from exc
    body = describe(letter) | {"replayed": _ledger(state).entries().get(str(letter.id))}
    typer.echo(json.dumps(body, indent=2, sort_keys=True))


@commands.command("replay")
def replay_letters(
    letter_ids: Annotated[list[str], typer.Argument(help="Ids of the letters to replay")],
    again: Annotated[bool, typer.Option(help="Replay letters that were replayed before")] = False,
    state_dir: StateDir = None,
) -> None:
    """Produce each letter's original value to its original topic and key, with a new
    event id; fix the cause first. A letter replayed before is refused without --again."""
    state = _stack(state_dir)
    try:
        letters = _read(state)
        chosen = [find(letters, letter_id) for letter_id in letter_ids]
        ledger = _ledger(state)
        admin = _client(state, ADMIN)
        done = run_sync(lambda: replay(admin, chosen, ledger, again=again))
    except DeadLetterError as exc:
        raise _fail(str(exc)) from exc
    for letter, new_id in done:
        _console.print(f"replayed {letter.id} to {letter.data.topic} as event {new_id}")
