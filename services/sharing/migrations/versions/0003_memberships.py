"""Sharing: memberships (an image offered to an account, and its answer), and what sharing
now keeps of every image: public or private, and its status from creating to deleted.
"""

from services.common.migrate import SqlStep

MEMBERSHIPS = SqlStep(
    create="""
    ALTER TABLE images
        ADD COLUMN visibility text NOT NULL DEFAULT 'private'
            CHECK (visibility IN ('public', 'private')),
        ALTER COLUMN owner_account_id DROP NOT NULL,
        ADD CONSTRAINT images_owned_if_private
            CHECK ((visibility = 'public') = (owner_account_id IS NULL)),
        ADD CONSTRAINT images_status
            CHECK (status IN ('creating', 'normal', 'failed', 'deleted'));

    -- A revoked membership is deleted; its version line (aggregate_versions) goes on,
    -- so a later offer of the same image to the same account continues it.
    CREATE TABLE memberships (
        membership_id        uuid PRIMARY KEY,
        image_id             uuid NOT NULL REFERENCES images,
        member_account_id    uuid NOT NULL,
        member_project_id    uuid,
        member_project_name  text,
        member_project_region text,
        status               text NOT NULL
                             CHECK (status IN ('pending', 'accepted', 'rejected')),
        offered_at           timestamptz NOT NULL,
        answered_at          timestamptz,
        UNIQUE (image_id, member_account_id)
    );
    -- The recipient's lists by status, newest offer first (keyset pagination).
    CREATE INDEX memberships_of_member
        ON memberships (member_account_id, status, offered_at DESC, membership_id DESC);
    """,
    drop="""
    DROP TABLE memberships;
    DELETE FROM images WHERE visibility = 'public' OR status <> 'normal';
    ALTER TABLE images
        DROP CONSTRAINT images_status,
        DROP CONSTRAINT images_owned_if_private,
        DROP COLUMN visibility,
        ALTER COLUMN owner_account_id SET NOT NULL;
    """,
)

revision, down_revision = "0003", "0002"
upgrade, downgrade = MEMBERSHIPS.upgrade, MEMBERSHIPS.downgrade
