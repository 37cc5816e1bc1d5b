"""The messaging tables every service has, as frozen migration steps.

Each service's history runs these steps (its first revision the tables, a later one the
relay's lease), so the SQL stands once. They are history, not live code: a step is never
edited once released (``tests/unit/test_migrations_stand_alone.py`` pins their SQL); a
change to the messaging tables is a new step here that each service's next revision runs.
"""

from __future__ import annotations

from services.common.migrate import SqlStep

# Step 1: outbox, inbox and version lines (with the NOTIFY that wakes the relay).
_MESSAGING_TABLES_V1 = """
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

_DROP_MESSAGING_TABLES_V1 = """
DROP TABLE aggregate_versions;
DROP TABLE inbox;
DROP TRIGGER outbox_inserted ON outbox;
DROP FUNCTION outbox_notify();
DROP TABLE outbox;
"""

# Step 2: the outbox relay's lease (one relay of the service sends at a time). A lease row
# names the relay that may send, until when, and the database session it holds: another
# instance takes over once the lease runs out, or at once when that session is gone.
_RELAY_LEASE_V1 = """
CREATE TABLE outbox_relay (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    owner        uuid,
    holder_pid   integer,
    lease_until  timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO outbox_relay DEFAULT VALUES;
"""

_DROP_RELAY_LEASE_V1 = "DROP TABLE outbox_relay"


MESSAGING_TABLES_V1 = SqlStep(create=_MESSAGING_TABLES_V1, drop=_DROP_MESSAGING_TABLES_V1)
RELAY_LEASE_V1 = SqlStep(create=_RELAY_LEASE_V1, drop=_DROP_RELAY_LEASE_V1)
