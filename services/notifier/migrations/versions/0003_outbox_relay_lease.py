"""Notifier: messaging step 2, the outbox relay's lease (services.common.messaging_migrations).

Revision ID: 0003
Revises: 0002
"""

from services.common.messaging_migrations import create_relay_lease_v1, drop_relay_lease_v1

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_relay_lease_v1()


def downgrade() -> None:
    drop_relay_lease_v1()
