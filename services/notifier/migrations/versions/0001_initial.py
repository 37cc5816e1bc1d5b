"""Notifier: per-account inbox of notices, plus the shared messaging tables."""

from services.common.messaging_migrations import MESSAGING_TABLES_V1
from services.common.migrate import SqlStep, in_order

NOTIFIER_TABLES_V1 = SqlStep(
    drop="DROP TABLE notices",
    create="""
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
    """,
)

revision, down_revision = "0001", None
upgrade, downgrade = in_order(MESSAGING_TABLES_V1, NOTIFIER_TABLES_V1)
