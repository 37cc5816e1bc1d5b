"""Catalog: messaging step 2, the outbox relay's lease (services.common.messaging_migrations).

Revision ID: 0004
Revises: 0003
"""

from services.common.messaging_migrations import create_relay_lease_v1, drop_relay_lease_v1

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create_relay_lease_v1()


def downgrade() -> None:
    drop_relay_lease_v1()
