"""Catalog: images, plus the shared messaging tables.

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
        CREATE TABLE images (
            image_id            uuid PRIMARY KEY,
            visibility          text NOT NULL CHECK (visibility IN ('public', 'private')),
            owner_account_id    uuid CHECK ((visibility = 'public') = (owner_account_id IS NULL)),
            name                text NOT NULL,
            description         text NOT NULL DEFAULT '',
            status              text NOT NULL
                                CHECK (status IN ('creating', 'normal', 'failed', 'deleted')),
            progress            integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
            os                  jsonb,
            system_disk_gb      integer,
            min_memory_mb       integer,
            disk_format         text,
            size_bytes          bigint,
            virtual_size_bytes  bigint,
            checksum_sha256     text,
            location            text,
            source_host_id      uuid,
            source_host_name    text,
            publish_status      text NOT NULL DEFAULT 'unpublished'
                                CHECK (publish_status IN ('unpublished', 'published')),
            failure_code        text,
            failure_reason      text,
            created_at          timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL
        );
        -- Newest first, by owner (private tab) and for the public tab; keyset pagination.
        CREATE INDEX images_by_owner ON images (owner_account_id, created_at DESC, image_id DESC)
            WHERE status <> 'deleted';
        CREATE INDEX images_public ON images (created_at DESC, image_id DESC)
            WHERE visibility = 'public' AND status <> 'deleted';
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE images")
    execute_script(DROP_MESSAGING_TABLES)
