"""Capture: hosts known from ECS, capture jobs, plus the shared messaging tables.

Revision ID: 0001
Revises:
"""

from services.common.migrate import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The messaging tables as they were at this revision (outbox, inbox, versions): a
# migration carries its own SQL, so history never changes when live code does.
MESSAGING_TABLES = """
CREATE TABLE outbox (
    position     bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    message_key  text        NOT NULL,
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;  -- housekeeping

-- One NOTIFY per inserting statement wakes the relay at once; it also polls, so a lost
-- notification only delays, never loses, an event.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_inserted AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    kafka_partition integer  NOT NULL,
    kafka_offset bigint      NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_handled ON inbox (handled_at);  -- housekeeping

CREATE TABLE aggregate_versions (
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    version        bigint NOT NULL CHECK (version >= 0),
    PRIMARY KEY (aggregate_type, aggregate_id)
);
"""

DROP_MESSAGING_TABLES = """
DROP TABLE aggregate_versions;
DROP TABLE inbox;
DROP TRIGGER outbox_inserted ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox;
"""


def upgrade() -> None:
    execute_script(MESSAGING_TABLES)
    execute_script(
        """
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
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE capture_jobs")
    execute_script("DROP TABLE hosts")
    execute_script(DROP_MESSAGING_TABLES)
