"""All of capture's SQL: hosts as ECS last described them and the queue of capture jobs, in
the capture service's own schema (:class:`CaptureStore` implements
:class:`services.capture.ports.Store`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asyncpg import Record

from schemas.events import HostDisk, OperatingSystem
from services.capture.domain import CaptureRequest, Host, Job, reason_of
from services.common.db import Connection
from services.common.refusals import Refusal
from services.common.values import value_of


def _host(row: Record) -> Host:
    return value_of(
        Host,
        row,
        os=OperatingSystem.model_validate(row["os"]),
        system_disk=HostDisk.model_validate(row["system_disk"]),
        data_disks=tuple(HostDisk.model_validate(d) for d in row["data_disks"]),
    )


def _job(row: Record) -> Job:
    return value_of(Job, row, age_seconds=float(row["age_seconds"]))


class CaptureStore:
    """Capture's tables on one connection (a unit of work's transaction, or a read)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def upsert_host(self, host: Host, updated_at: datetime) -> None:
        await self._conn.execute(
            """
            INSERT INTO hosts (host_id, account_id, name, os, state, memory_mb, system_disk,
                               data_disks, version, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (host_id) DO UPDATE SET
                account_id = EXCLUDED.account_id, name = EXCLUDED.name, os = EXCLUDED.os,
                state = EXCLUDED.state, memory_mb = EXCLUDED.memory_mb,
                system_disk = EXCLUDED.system_disk, data_disks = EXCLUDED.data_disks,
                version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
            """,
            host.host_id,
            host.account_id,
            host.name,
            host.os.model_dump(mode="json"),
            host.state,
            host.memory_mb,
            host.system_disk.model_dump(mode="json"),
            [d.model_dump(mode="json") for d in host.data_disks],
            host.version,
            updated_at,
        )

    async def get_host(self, host_id: UUID) -> Host | None:
        row = await self._conn.fetchrow("SELECT * FROM hosts WHERE host_id = $1", host_id)
        return _host(row) if row else None

    async def lock_host(self, host_id: UUID) -> Host | None:
        """The host, share-locked until the transaction ends: a HostChanged for it waits."""
        row = await self._conn.fetchrow("SELECT * FROM hosts WHERE host_id = $1 FOR SHARE", host_id)
        return _host(row) if row else None

    async def list_hosts(
        self, account_id: UUID, *, state: str | None, after: tuple[str, UUID] | None, limit: int
    ) -> list[Host]:
        """An account's hosts that are not deleted, by name then id, after a keyset cursor."""
        rows = await self._conn.fetch(
            """
            SELECT * FROM hosts
            WHERE account_id = $1 AND state <> 'deleted' AND ($2::text IS NULL OR state = $2)
                AND ($3::text IS NULL OR (name, host_id) > ($3, $4::uuid))
            ORDER BY name, host_id
            LIMIT $5
            """,
            account_id,
            state,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [_host(row) for row in rows]

    async def insert_job(self, request: CaptureRequest) -> bool:
        """Queue a capture; False if this image already has a job."""
        inserted = await self._conn.fetchval(
            """
            INSERT INTO capture_jobs (image_id, account_id, host_id, name, description,
                                      strict_preflight, status, correlation_id)
            VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)
            ON CONFLICT (image_id) DO NOTHING
            RETURNING true
            """,
            request.image_id,
            request.account_id,
            request.host_id,
            request.name,
            request.description,
            request.strict_preflight,
            request.correlation_id,
        )
        return bool(inserted)

    async def claim_next_job(self, owner: UUID, lease_seconds: int) -> Job | None:
        """Take the oldest queued job, or a running one whose worker stopped renewing it."""
        row = await self._conn.fetchrow(
            """
            UPDATE capture_jobs SET status = 'running', attempts = attempts + 1,
                lease_owner = $2, lease_until = now() + make_interval(secs => $1),
                updated_at = now()
            WHERE image_id = (
                SELECT image_id FROM capture_jobs
                WHERE status IN ('queued', 'running')
                    AND (lease_until IS NULL OR lease_until < now())
                ORDER BY created_at
                FOR UPDATE SKIP LOCKED
                LIMIT 1
            )
            RETURNING *, extract(epoch FROM now() - created_at) AS age_seconds
            """,
            lease_seconds,
            owner,
        )
        return _job(row) if row else None

    async def defer_job(self, image_id: UUID, owner: UUID, seconds: float) -> None:
        """Put a job back in the queue, due again in ``seconds``."""
        await self._conn.execute(
            """
            UPDATE capture_jobs SET status = 'queued', lease_owner = NULL,
                attempts = attempts - 1,  -- waiting for host facts is not a failed attempt
                lease_until = now() + make_interval(secs => $3), updated_at = now()
            WHERE image_id = $1 AND lease_owner = $2
            """,
            image_id,
            owner,
            seconds,
        )

    async def renew_lease(
        self, image_id: UUID, owner: UUID, percent: int, lease_seconds: int
    ) -> bool:
        """Record progress and extend the lease; False if another worker owns the job now."""
        renewed = await self._conn.fetchval(
            """
            UPDATE capture_jobs SET percent = $3,
                lease_until = now() + make_interval(secs => $4), updated_at = now()
            WHERE image_id = $1 AND lease_owner = $2 AND status = 'running'
            RETURNING true
            """,
            image_id,
            owner,
            percent,
            lease_seconds,
        )
        return bool(renewed)

    async def finish_job(self, image_id: UUID, owner: UUID, failure: Refusal | None = None) -> bool:
        """Record the outcome (succeeded, or failed for ``failure``); False if the job is
        not ours (any more) or already finished."""
        finished = await self._conn.fetchval(
            """
            UPDATE capture_jobs SET status = $3, percent = CASE WHEN $3 = 'succeeded' THEN 100
                ELSE percent END, failure_code = $4, failure_reason = $5, lease_until = NULL,
                lease_owner = NULL, updated_at = now()
            WHERE image_id = $1 AND lease_owner = $2 AND status = 'running'
            RETURNING true
            """,
            image_id,
            owner,
            "failed" if failure else "succeeded",
            failure.code if failure else None,
            reason_of(failure) if failure else None,
        )
        return bool(finished)

    async def job_owner(self, image_id: UUID) -> UUID | None:
        """The account whose capture made the image (None if capture never had a job)."""
        owner: UUID | None = await self._conn.fetchval(
            "SELECT account_id FROM capture_jobs WHERE image_id = $1", image_id
        )
        return owner
