"""Notifier: an account's notices are the aggregate "notices" (was "inbox", a name that
clashed with the consumers' dedup inbox). Keeps each account's version line going.

Revision ID: 0002
Revises: 0001
"""

from services.common.migrate import execute_script

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    execute_script(
        "UPDATE aggregate_versions SET aggregate_type = 'notices' WHERE aggregate_type = 'inbox'"
    )


def downgrade() -> None:
    execute_script(
        "UPDATE aggregate_versions SET aggregate_type = 'inbox' WHERE aggregate_type = 'notices'"
    )
