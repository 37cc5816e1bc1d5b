"""Catalog: memberships as sharing's facts tell them (offered, accepted, rejected, revoked
with its cause), for the shared tab (C2), share tenants (C3) and the launch check (C8).

Revoked memberships are kept, so a launch check can say why an image is gone.
"""

from services.common.migrate import SqlStep

MEMBERSHIPS = SqlStep(
    create="""
    CREATE TABLE memberships (
        membership_id        uuid PRIMARY KEY,
        image_id             uuid NOT NULL,
        owner_account_id     uuid NOT NULL,
        member_account_id    uuid NOT NULL,
        member_account_name  text NOT NULL,
        member_project_id    uuid,
        member_project_name  text,
        status               text NOT NULL
                             CHECK (status IN ('pending', 'accepted', 'rejected', 'revoked')),
        revoked_cause        text,
        offered_at           timestamptz,
        changed_at           timestamptz NOT NULL,
        UNIQUE (image_id, member_account_id)
    );
    -- The shared tab: what a tenant accepted.
    CREATE INDEX memberships_accepted ON memberships (member_account_id, image_id)
        WHERE status = 'accepted';
    -- Share tenants of an image (C3), and its shared yes/no in the lists.
    CREATE INDEX memberships_of_image ON memberships (image_id, changed_at)
        WHERE status <> 'revoked';
    """,
    drop="DROP TABLE memberships",
)

revision, down_revision = "0010", "0004"
upgrade, downgrade = MEMBERSHIPS.upgrade, MEMBERSHIPS.downgrade
