"""Capture: hosts known from ECS, capture jobs, plus the shared messaging tables."""

from services.common.messaging_migrations import MESSAGING_TABLES_V1
from services.common.migrate import SqlStep, in_order

CAPTURE_TABLES_V1 = SqlStep(
    drop="DROP TABLE capture_jobs; DROP TABLE hosts",
    create="""
    CREATE TABLE hosts (
        host_id      uuid PRIMARY KEY,
        account_id   uuid NOT NULL,
        name         text NOT NULL,
        os           jsonb NOT NULL,
        state        text NOT NULL CHECK (state IN ('running', 'stopped', 'deleted')),
        memory_mb    integer NOT NULL,
        system_disk  jsonb NOT NULL,
        data_disks   jsonb NOT NULL DEFAULT '[]',
        version      bigint NOT NULL,
        updated_at   timestamptz NOT NULL
    );

    CREATE TABLE capture_jobs (
        image_id          uuid PRIMARY KEY,
        account_id        uuid NOT NULL,
        host_id           uuid NOT NULL,
        name              text NOT NULL,
        description       text NOT NULL DEFAULT '',
        strict_preflight  boolean NOT NULL DEFAULT false,
        status            text NOT NULL
                          CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        percent           integer NOT NULL DEFAULT 0,
        attempts          integer NOT NULL DEFAULT 0,
        correlation_id    uuid,
        lease_until       timestamptz,
        lease_owner       uuid,
        failure_code      text,
        failure_reason    text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now()
    );
    -- The worker's queue: oldest first among those due (a deferred job waits for its
    -- lease_until) or whose worker stopped renewing its lease.
    CREATE INDEX capture_jobs_pending ON capture_jobs (created_at)
        WHERE status IN ('queued', 'running');
    """,
)

revision, down_revision = "0001", None
upgrade, downgrade = in_order(MESSAGING_TABLES_V1, CAPTURE_TABLES_V1)
