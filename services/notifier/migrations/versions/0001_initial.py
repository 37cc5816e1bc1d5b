"""Notifier: per-account inbox of notices, plus the shared messaging tables.

Revision ID: 0001
Revises:
"""

from services.common.messaging_migrations import create_messaging_tables_v1 as messaging_v1
from services.common.messaging_migrations import drop_messaging_tables_v1 as drop_messaging_v1
from services.common.migrate import execute_script

revision = "0001"
down_revision = None


def upgrade() -> None:
    messaging_v1()
    execute_script(
        """
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
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE notices")
    drop_messaging_v1()
