"""The sharing service's tenant-facing HTTP API: owners share and manage tenants (S1, S2,
S7-S9), recipients list and answer offers (S3-S6). Paths are a contract with the console."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from services.common.uow import UnitOfWorkFactory
from services.sharing.api import owner, recipient
from services.sharing.api.work import Work


def install_routes(
    app: FastAPI, pool: asyncpg.Pool, *, source: str, topic_prefix: str, region: str | None
) -> None:
    work = Work(UnitOfWorkFactory(pool, source=source, topic_prefix=topic_prefix))
    app.include_router(owner.router(work, region=region))
    app.include_router(recipient.router(work))
