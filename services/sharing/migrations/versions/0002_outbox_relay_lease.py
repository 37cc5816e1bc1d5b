"""Sharing: messaging step 2, the outbox relay's lease (services.common.messaging_migrations).

Revision ID: 0002
Revises: 0001
"""

from services.common.messaging_migrations import create_relay_lease_v1, drop_relay_lease_v1

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_relay_lease_v1()


def downgrade() -> None:
    drop_relay_lease_v1()
