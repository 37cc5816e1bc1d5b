"""Sharing: the outbox relay's lease (one relay of the service sends at a time).

The relay no longer holds a transaction (and an advisory lock) open while Kafka acks a
batch: an instance frozen mid-way held it for as long as it was frozen. A lease row names
the relay that may send, until when, and the database session it holds: another instance
takes over once the lease runs out, or at once when that session is gone (a crash).

Revision ID: 0002
Revises: 0001
"""

from services.common.migrate import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE outbox_relay (
            singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            owner        uuid,
            holder_pid   integer,
            lease_until  timestamptz NOT NULL DEFAULT '-infinity'
        );
        INSERT INTO outbox_relay DEFAULT VALUES;
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE outbox_relay")
