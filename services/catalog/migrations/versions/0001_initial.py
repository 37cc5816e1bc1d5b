"""Catalog: images, plus the shared messaging tables.

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
        CREATE TABLE images (
            image_id            uuid PRIMARY KEY,
            visibility          text NOT NULL CHECK (visibility IN ('public', 'private')),
            owner_account_id    uuid CHECK ((visibility = 'public') = (owner_account_id IS NULL)),
            name                text NOT NULL,
            description         text NOT NULL DEFAULT '',
            status              text NOT NULL
                                CHECK (status IN ('creating', 'normal', 'failed', 'deleted')),
            progress            integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
            os                  jsonb,
            system_disk_gb      integer,
            min_memory_mb       integer,
            disk_format         text,
            size_bytes          bigint,
            virtual_size_bytes  bigint,
            checksum_sha256     text,
            location            text,
            source_host_id      uuid,
            source_host_name    text,
            publish_status      text NOT NULL DEFAULT 'unpublished'
                                CHECK (publish_status IN ('unpublished', 'published')),
            failure_code        text,
            failure_reason      text,
            created_at          timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL
        );
        -- Newest first, by owner (private tab) and for the public tab; keyset pagination.
        CREATE INDEX images_by_owner ON images (owner_account_id, created_at DESC, image_id DESC)
            WHERE status <> 'deleted';
        CREATE INDEX images_public ON images (created_at DESC, image_id DESC)
            WHERE visibility = 'public' AND status <> 'deleted';
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE images")
    drop_messaging_v1()
