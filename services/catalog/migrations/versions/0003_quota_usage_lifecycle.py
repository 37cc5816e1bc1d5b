"""Catalog: accounts (quota, stored bytes), and what modify, delete and publish need."""

from services.common.migrate import SqlStep

QUOTA_USAGE_LIFECYCLE = SqlStep(
    create="""
    ALTER TABLE images
        -- When the catalog admitted the capture (CaptureAccepted went out). NULL while
        -- an image the API registered waits for its own CaptureRequested, and for a
        -- request the catalog refused.
        ADD COLUMN accepted_at  timestamptz,
        ADD COLUMN deleted_at   timestamptz,
        -- Public images: when PublicImageAdded announced it (NULL: not yet).
        ADD COLUMN announced_at timestamptz;
    -- Every private image so far was registered by its CaptureRequested, so accepted.
    UPDATE images SET accepted_at = created_at WHERE visibility = 'private';

    -- One row per account the catalog has dealt with; its lock serialises whatever
    -- counts against the account's quota or changes its stored bytes.
    CREATE TABLE accounts (
        account_id           uuid PRIMARY KEY,
        -- NULL: the region's default (10). Set by an admin (C6).
        private_image_quota  integer CHECK (private_image_quota >= 0),
        -- The last figures announced by StorageUsageChanged (C9).
        stored_bytes         bigint  NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0),
        stored_images        integer NOT NULL DEFAULT 0 CHECK (stored_images >= 0),
        updated_at           timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO accounts (account_id, stored_bytes, stored_images)
    SELECT owner_account_id, coalesce(sum(size_bytes), 0), count(*)
    FROM images WHERE visibility = 'private' AND status = 'normal'
    GROUP BY owner_account_id;

    -- What counts against the quota and what is stored, by owner (C6, C9).
    CREATE INDEX images_held ON images (owner_account_id, status)
        INCLUDE (size_bytes) WHERE status IN ('creating', 'normal');
    -- Public images not yet announced (a handful at most).
    CREATE INDEX images_unannounced ON images (image_id)
        WHERE visibility = 'public' AND announced_at IS NULL;
    """,
    drop="""
    DROP INDEX images_unannounced;
    DROP INDEX images_held;
    DROP TABLE accounts;
    ALTER TABLE images DROP COLUMN announced_at, DROP COLUMN deleted_at,
        DROP COLUMN accepted_at;
    """,
)

revision, down_revision = "0003", "0002"
upgrade, downgrade = QUOTA_USAGE_LIFECYCLE.upgrade, QUOTA_USAGE_LIFECYCLE.downgrade
