"""An IMS event as Kafka record bytes: a CloudEvents 1.0 envelope in structured JSON mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid4


class EventData(Protocol):
    """What every model of ims_testkit.schemas.events is: a pydantic model with a type."""

    NAME: ClassVar[str]

    @classmethod
    def event_type(cls) -> str: ...

    def model_dump(self, *, mode: str = ..., exclude_none: bool = ...) -> dict[str, Any]: ...


def cloudevent(
    data: EventData,
    *,
    subject: UUID | str,
    tenant: UUID | str,
    sequence: int = 1,
    source: str = "/tests",
    event_id: UUID | None = None,
) -> bytes:
    """The record value for `data`. Produce it to the topic `data.NAME` with the key
    `subject` (the aggregate id). The same `event_id` twice is a redelivery, which IMS
    handles once; `sequence` is the aggregate's version after this fact (IMS ignores a
    fact that is not newer than the last one it applied)."""
    envelope = {
        "specversion": "1.0",
        "id": str(event_id or uuid4()),
        "source": source,
        "type": data.event_type(),
        "subject": str(subject),
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "tenant": str(tenant),
        "sequence": sequence,
        "data": data.model_dump(mode="json", exclude_none=True),
    }
    return json.dumps(envelope, ensure_ascii=False).encode()
