"""What IMS announced on Kafka, read the way other platform teams read it."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord

from tests.harness import Bus, body

Records = list[ConsumerRecord[bytes, bytes]]
SEEDED_PUBLIC_IMAGES = {
    "48c60013-1c0a-59fa-a7a8-e7b60b317967",
    "3b329bed-8eb5-549a-b2b9-f57e765d8523",
    "87889737-3536-590b-a77e-ce83fd3da7af",
    "3a11bc04-8b2d-5041-a8aa-887791973328",
    "7e849920-9d36-52f0-bf3b-d121caaa6f86",
    "9ae7b5da-e4a0-5a94-81e4-11e744e8741c",
}


async def facts_of(bus: Bus, topic: str, key: str, count: int) -> list[dict[str, Any]]:
    """The facts about one aggregate (its key) on one topic, once ``count`` distinct ones are
    there, oldest first; a fact Kafka delivered twice (the same CloudEvents id) counts once."""

    def distinct(records: Records) -> int:
        return len({body(r)["id"] for r in records})

    records = await bus.read(topic, lambda rs: distinct(rs) >= count, key=key)
    events = {body(r)["id"]: body(r) for r in records}
    return sorted(events.values(), key=lambda e: int(e["sequence"]))


async def seeded_images_announced_once(bus: Bus) -> None:
    def all_seen(records: Records) -> bool:
        return {body(r)["subject"] for r in records} >= SEEDED_PUBLIC_IMAGES

    records = await bus.read("PublicImageAdded", all_seen)
    ids: dict[str, set[str]] = {}
    for record in records:
        ids.setdefault(body(record)["subject"], set()).add(body(record)["id"])
    assert {image: len(ids[image]) for image in SEEDED_PUBLIC_IMAGES} == dict.fromkeys(
        SEEDED_PUBLIC_IMAGES, 1
    )
