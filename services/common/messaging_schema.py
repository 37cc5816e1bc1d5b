"""The messaging tables every service keeps in its own schema: outbox, inbox, versions.

Each service's first migration calls :func:`create_messaging_tables`, so the mechanics are
written once and every schema has the same shape.
"""

from __future__ import annotations

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


def notify_channel(schema: str) -> str:
    """The LISTEN channel the outbox trigger of ``schema`` notifies."""
    return f"{schema}_outbox"
