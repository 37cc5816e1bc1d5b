"""The hosts query with a fake store: a tenant's own hosts, never deleted ones, a page at
a time by name, and an invalid cursor refused."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from schemas.events import HostDisk, OperatingSystem
from services.capture.domain import Host
from services.capture.handlers.hosts import list_hosts
from services.common.cursors import InvalidCursor
from tests.unit.capture.fakes import FakeStore

LINUX = OperatingSystem(family="linux", distro="Debian", version="12")


async def add(store: FakeStore, account: UUID, name: str, state: str = "stopped") -> Host:
    disk = HostDisk(disk_id=uuid4(), path="/d/1", format="raw", size_gb=40)
    host = Host(uuid4(), account, name, LINUX, state, 1024, disk, version=1)
    await store.upsert_host(host, store.clock())
    return host


async def test_pages_of_the_tenants_hosts_by_name() -> None:
    store, account = FakeStore(), uuid4()
    for name in ("c", "a", "b"):
        await add(store, account, name)
    await add(store, account, "gone", "deleted")
    await add(store, uuid4(), "others")
    first = await list_hosts(store, account, state=None, cursor=None, limit=2)
    assert [h.name for h in first.hosts] == ["a", "b"]
    assert first.next_cursor is not None
    rest = await list_hosts(store, account, state=None, cursor=first.next_cursor, limit=2)
    assert ([h.name for h in rest.hosts], rest.next_cursor) == (["c"], None)


async def test_a_state_filter_lists_only_hosts_in_that_state() -> None:
    store, account = FakeStore(), uuid4()
    await add(store, account, "a")
    await add(store, account, "b", "running")
    page = await list_hosts(store, account, state="running", cursor=None, limit=10)
    assert [h.name for h in page.hosts] == ["b"]


async def test_an_invalid_cursor_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        await list_hosts(FakeStore(), uuid4(), state=None, cursor="not-a-cursor", limit=10)
