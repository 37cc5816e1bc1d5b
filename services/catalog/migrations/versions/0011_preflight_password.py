"""Catalog: the guest preflight of a captured image (K4) and whether hosts made from it keep
the source host's password (K5), as capture's ImageReady (or CaptureFailed) states them.
"""

from services.common.migrate import SqlStep

PREFLIGHT_PASSWORD = SqlStep(
    create="""
    ALTER TABLE images
        -- {"status", "findings": [{"code", "path", "detail"}], "detail"}; NULL for
        -- public images and for captures made before the preflight existed.
        ADD COLUMN preflight jsonb,
        ADD COLUMN keeps_source_password boolean NOT NULL DEFAULT false;
    """,
    drop="ALTER TABLE images DROP COLUMN keeps_source_password, DROP COLUMN preflight",
)

revision, down_revision = "0011", "0010"
upgrade, downgrade = PREFLIGHT_PASSWORD.upgrade, PREFLIGHT_PASSWORD.downgrade
