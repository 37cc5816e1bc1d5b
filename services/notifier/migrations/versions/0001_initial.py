"""Notifier: per-account inbox of notices, plus the shared messaging tables.

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
        CREATE TABLE notices (
            notice_id   uuid PRIMARY KEY,
            account_id  uuid NOT NULL,
            image_id    uuid NOT NULL,
            kind        text NOT NULL,
            text_zh     text NOT NULL,
            text_en     text NOT NULL,
            created_at  timestamptz NOT NULL,
            read_at     timestamptz,
            UNIQUE (image_id, kind)
        );
        CREATE INDEX notices_inbox ON notices (account_id, created_at DESC);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE notices")
    execute_script(DROP_MESSAGING_TABLES)
