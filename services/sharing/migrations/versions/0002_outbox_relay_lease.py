"""Sharing: messaging step 2, the outbox relay's lease (services.common.messaging_migrations)."""

from services.common.messaging_migrations import RELAY_LEASE_V1

revision, down_revision = "0002", "0001"
upgrade, downgrade = RELAY_LEASE_V1.upgrade, RELAY_LEASE_V1.downgrade
