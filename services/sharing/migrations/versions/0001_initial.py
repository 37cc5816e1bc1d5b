"""Sharing: accounts known from IAM, shareable images known from capture, messaging tables."""

from services.common.messaging_migrations import MESSAGING_TABLES_V1
from services.common.migrate import SqlStep, in_order

SHARING_TABLES_V1 = SqlStep(
    drop="DROP TABLE images; DROP TABLE accounts",
    create="""
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
    """,
)

revision, down_revision = "0001", None
upgrade, downgrade = in_order(MESSAGING_TABLES_V1, SHARING_TABLES_V1)
