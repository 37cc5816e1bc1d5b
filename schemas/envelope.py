"""The CloudEvents 1.0 envelope (structured JSON mode) every IMS event travels in.

Extensions (CloudEvents allows lower-case alphanumeric extension attributes):
- ``tenant``: the account the event concerns, for routing and isolation;
- ``sequence``: the aggregate's version after this fact, 1, 2, 3, ... Facts of one aggregate
  travel on different topics and may arrive out of order; a consumer ignores a fact whose
  sequence is not above the last it applied for that aggregate;
- ``correlationid`` / ``causationid``: the request a chain of events started from, and the
  event that caused this one.

The Kafka record key is the aggregate id, which is also the CloudEvents ``subject``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_TYPE_PREFIX = "ims."

DataT = TypeVar("DataT", bound=BaseModel)


def utc_now() -> datetime:
    return datetime.now(UTC)


class EnvelopeHeader(BaseModel):
    """The context attributes, without data: what a consumer reads before it trusts a body."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid4, description="Unique per event; the dedup key")
    source: str = Field(
        min_length=1, description="URI-reference of the producer, e.g. /ims/capture"
    )
    type: str = Field(
        min_length=1, description="Event type with its major version, e.g. ims.ImageReady.v1"
    )
    subject: str = Field(min_length=1, description="The aggregate id; also the Kafka key")
    time: AwareDatetime = Field(default_factory=utc_now)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    tenant: str = Field(min_length=1, description="Account id the event concerns")
    sequence: int = Field(ge=1, description="Aggregate version after this fact")
    correlationid: UUID | None = None
    causationid: UUID | None = None


class Envelope(EnvelopeHeader, Generic[DataT]):
    """A whole event: context attributes plus the typed ``data``."""

    data: DataT
