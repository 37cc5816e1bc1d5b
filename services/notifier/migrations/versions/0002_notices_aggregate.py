"""Notifier: an account's notices are the aggregate "notices" (was "inbox", a name that
clashed with the consumers' dedup inbox). Keeps each account's version line going.
"""

from services.common.migrate import SqlStep

NOTICES_AGGREGATE = SqlStep(
    create="UPDATE aggregate_versions SET aggregate_type = 'notices'"
    " WHERE aggregate_type = 'inbox'",
    drop="UPDATE aggregate_versions SET aggregate_type = 'inbox' WHERE aggregate_type = 'notices'",
)

revision, down_revision = "0002", "0001"
upgrade, downgrade = NOTICES_AGGREGATE.upgrade, NOTICES_AGGREGATE.downgrade
