"""Catalog: the guest preflight of a captured image (K4) and whether hosts made from it keep
the source host's password (K5), as capture's ImageReady (or CaptureFailed) states them.

Revision ID: 0011
Revises: 0010
"""

from services.common.migrate import execute_script

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE images
            -- {"status", "findings": [{"code", "path", "detail"}], "detail"}; NULL for
            -- public images and for captures made before the preflight existed.
            ADD COLUMN preflight jsonb,
            ADD COLUMN keeps_source_password boolean NOT NULL DEFAULT false;
        """
    )


def downgrade() -> None:
    execute_script("ALTER TABLE images DROP COLUMN keeps_source_password, DROP COLUMN preflight")
