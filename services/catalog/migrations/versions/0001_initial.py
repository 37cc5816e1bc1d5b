"""Catalog: images, plus the shared messaging tables."""

from services.common.messaging_migrations import MESSAGING_TABLES_V1
from services.common.migrate import SqlStep, in_order

CATALOG_TABLES_V1 = SqlStep(
    drop="DROP TABLE images",
    create="""
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
    """,
)

revision, down_revision = "0001", None
upgrade, downgrade = in_order(MESSAGING_TABLES_V1, CATALOG_TABLES_V1)
