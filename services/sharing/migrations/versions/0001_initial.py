"""Sharing: accounts known from IAM, shareable images known from capture, messaging tables.

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
        CREATE TABLE accounts (
            account_id  uuid PRIMARY KEY,
            name        text NOT NULL,
            kind        text NOT NULL,
            projects    jsonb NOT NULL DEFAULT '[]',
            status      text NOT NULL CHECK (status IN ('active', 'closed')),
            updated_at  timestamptz NOT NULL
        );
        -- Owners share by account name (seed 2.6). Not unique: a rename and a new account
        -- taking the old name may arrive in either order (different keys, partitions).
        CREATE INDEX accounts_by_name ON accounts (name) WHERE status = 'active';

        CREATE TABLE images (
            image_id          uuid PRIMARY KEY,
            owner_account_id  uuid NOT NULL,
            name              text NOT NULL,
            status            text NOT NULL,
            updated_at        timestamptz NOT NULL
        );
        CREATE INDEX images_by_owner ON images (owner_account_id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE images")
    execute_script("DROP TABLE accounts")
    drop_messaging_v1()
