"""The queries the hosts API calls: a tenant's hosts, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.capture.domain import Host
from services.capture.ports import Store
from services.common.cursors import decode_cursor, encode_cursor


@dataclass(frozen=True)
class HostPage:
    hosts: list[Host]
    next_cursor: str | None


async def list_hosts(
    store: Store, account_id: UUID, *, state: str | None, cursor: str | None, limit: int
) -> HostPage:
    """The account's hosts (never another's, never deleted ones), by name then id, after
    ``cursor``; an invalid cursor is refused (InvalidCursor)."""
    after = decode_cursor(cursor) if cursor else None
    hosts = await store.list_hosts(account_id, state=state, after=after, limit=limit + 1)
    page = hosts[:limit]
    next_cursor = encode_cursor(page[-1].name, page[-1].host_id) if len(hosts) > limit else None
    return HostPage(page, next_cursor)
