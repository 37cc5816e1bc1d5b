"""Catalog: seed the platform's public images (C1).

Revision ID: 0002
Revises: 0001
"""

import json

from alembic import op
from sqlalchemy import text

from services.catalog.public_images import PLATFORM_IMAGES

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for position, image in enumerate(PLATFORM_IMAGES):
        os = {"family": image.family, "distro": image.distro, "version": image.version}
        op.get_bind().execute(
            text(
                """
                INSERT INTO images (image_id, visibility, name, status, progress, os,
                    system_disk_gb, min_memory_mb, publish_status, created_at, updated_at)
                VALUES (:id, 'public', :name, 'normal', 100, CAST(:os AS jsonb), :disk, :memory,
                    'published', now() - make_interval(secs => :age), now())
                ON CONFLICT (image_id) DO NOTHING
                """
            ),
            {
                "id": image.image_id,
                "name": image.name,
                "os": json.dumps(os),
                "disk": image.system_disk_gb,
                "memory": image.min_memory_mb,
                # Keep the listed order: the first image is the newest.
                "age": position,
            },
        )


def downgrade() -> None:
    op.get_bind().execute(
        text("DELETE FROM images WHERE image_id = ANY(:ids)"),
        {"ids": [image.image_id for image in PLATFORM_IMAGES]},
    )
