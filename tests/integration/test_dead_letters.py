"""Dead letters an operator can act on, end to end (`ims-stack dead-letters`, issue 16):
a record dead-lettered for a cause, the cause fixed, the letter replayed, applied once."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from deploy.stack.dead_letters import (
    REPLAY_HEADER,
    DeadLetterError,
    Ledger,
    Letter,
    find,
    read_letters,
    replay,
    select,
)
from schemas.events import CaptureProgressed
from schemas.topics import OPERATOR
from tests.harness import Bus, eventually
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import Spawn
from tests.integration.test_crash_recovery import fetch_value, image_status


async def progress_of(stack: TestStack, image_id: UUID) -> object:
    return await fetch_value(
        stack.dsns["catalog"],
        "catalog",
        "SELECT progress FROM images WHERE image_id = $1",
        image_id,
    )


async def test_a_letter_replayed_after_its_cause_is_fixed_is_applied_once(
    deployment: TestStack, spawn: Spawn, tmp_path: Path
) -> None:
    catalog = spawn(deployment, "catalog").start()
    catalog.wait_healthy()
    account, image_id = uuid4(), uuid4()
    prefix = deployment.topic_prefix
    # The operator reads the letters; replaying writes the topics' own writers' topics,
    # which only the broker's super user may (as `ims-stack dead-letters replay` does).
    operator, admin = deployment.kafka_client_config(OPERATOR), deployment.kafka_client_config()
    async with Bus(deployment) as bus:
        # The cause: progress of an image the catalog has not admitted (its request is late).
        progress = CaptureProgressed(image_id=image_id, account_id=account, percent=40)
        sent = await bus.send(progress, subject=image_id, tenant=account, sequence=5)

        async def the_letter() -> Letter | None:
            letters = select(await read_letters(operator, prefix=prefix), topic="CaptureProgressed")
            ours = [x for x in letters if x.data.event_id == sent.id]
            return ours[0] if ours else None

        letter = await eventually(the_letter, timeout=90)
        assert "does not own image" in letter.data.reason
        assert letter.data.topic == bus.topic("CaptureProgressed")
        assert letter.key == str(image_id).encode()
        assert find(await read_letters(operator, prefix=prefix), str(letter.id)[:13]) == letter

        # The cause fixed: the image admitted.
        await bus.send(facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account)

        async def admitted() -> bool:
            return await image_status(deployment, image_id) == "creating"

        await eventually(admitted, timeout=90)
        assert await progress_of(deployment, image_id) != 40

        ledger = Ledger(tmp_path / "replayed.json")
        [(replayed, new_id)] = await replay(admin, [letter], ledger)
        assert replayed == letter
        assert new_id != sent.id

        async def applied() -> bool:
            return await progress_of(deployment, image_id) == 40

        await eventually(applied, timeout=90)
        # Once: a second replay is refused, and the new event is in the inbox once.
        with pytest.raises(DeadLetterError, match="already replayed"):
            await replay(admin, [letter], ledger)
        assert ledger.entries()[str(letter.id)]["replayed_as"] == str(new_id)
        claims = await fetch_value(
            deployment.dsns["catalog"],
            "catalog",
            "SELECT count(*) FROM inbox WHERE event_id = $1",
            new_id,
        )
        assert claims == 1
        records = await bus.read("CaptureProgressed", lambda rs: len(rs) >= 2, key=str(image_id))
        assert [dict(r.headers).get(REPLAY_HEADER) for r in records] == [
            None,
            str(letter.id).encode(),
        ]
    assert catalog.metric("ims_events_dead_lettered_total") == 1
