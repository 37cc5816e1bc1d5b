"""A database outage is transient: the record is retried, never acknowledged before its
effect is committed, and handled exactly once when the database is back."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg

from tests.harness import Bus, eventually, service_process
from tests.infra import TestStack
from tests.integration import facts
from tests.proxy import TcpProxy


def through(proxy: TcpProxy, dsn: str) -> str:
    parts = urlsplit(dsn)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))


async def test_records_wait_out_a_database_outage_and_are_handled_once(
    deployment: TestStack, auth_secret: str
) -> None:
    dsn = deployment.dsns["catalog"]
    target = urlsplit(dsn)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.open()
    catalog = service_process(deployment, "catalog", auth_secret=auth_secret)
    catalog.env["IMS_DATABASE_URL"] = through(proxy, dsn)
    account, image_id = uuid4(), uuid4()
    try:
        catalog.start().wait_healthy()
        proxy.cut()
        async with Bus(deployment.kafka_bootstrap, deployment.topic_prefix) as bus:
            await bus.send(
                facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
            )
            await eventually(lambda: catalog.metric("ims_retries_total") >= 2, timeout=90)
            await asyncio.sleep(2)  # well past faust's 1 s offset commit interval
            proxy.open()

            accepted = await bus.read(
                "CaptureAccepted", lambda rs: len(rs) >= 1, key=str(image_id), timeout=90
            )
        assert len(accepted) == 1
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
        try:
            status = await conn.fetchval("SELECT status FROM images WHERE image_id = $1", image_id)
        finally:
            await conn.close()
        assert status == "creating"
        assert catalog.proc is not None
        assert catalog.proc.poll() is None, "the service kept running through the outage"
    finally:
        catalog.stop()
        proxy.close()
