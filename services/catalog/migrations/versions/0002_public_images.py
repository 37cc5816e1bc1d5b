"""Catalog: seed the platform's public images (C1).

Revision ID: 0002
Revises: 0001
"""

import json

from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"

# The set seeded at install, as data of this revision (ids are stable across regions and
# reinstalls: uuid5 of "ims:public-image:<slug>"). Later changes are an admin's (C1).
# (image id, name, OS family, distro, version, system disk GB, minimum memory MB), newest first.
PUBLIC_IMAGES = (
    (
        "48c60013-1c0a-59fa-a7a8-e7b60b317967",
        "CentOS 7.9 64bit",
        "linux",
        "CentOS",
        "7.9",
        40,
        1024,
    ),
    (
        "3b329bed-8eb5-549a-b2b9-f57e765d8523",
        "Ubuntu 22.04 server 64bit",
        "linux",
        "Ubuntu",
        "22.04",
        40,
        1024,
    ),
    ("87889737-3536-590b-a77e-ce83fd3da7af", "Debian 12 64bit", "linux", "Debian", "12", 40, 1024),
    (
        "3a11bc04-8b2d-5041-a8aa-887791973328",
        "EulerOS 2.9 64bit",
        "linux",
        "EulerOS",
        "2.9",
        40,
        1024,
    ),
    (
        "7e849920-9d36-52f0-bf3b-d121caaa6f86",
        "Windows Server 2019 Datacenter 64bit",
        "windows",
        "Windows Server",
        "2019 Datacenter",
        40,
        2048,
    ),
    (
        "9ae7b5da-e4a0-5a94-81e4-11e744e8741c",
        "Windows Server 2022 Datacenter 64bit",
        "windows",
        "Windows Server",
        "2022 Datacenter",
        40,
        2048,
    ),
)


def upgrade() -> None:
    for position, (image_id, name, family, distro, version, disk, memory) in enumerate(
        PUBLIC_IMAGES
    ):
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
                "id": image_id,
                "name": name,
                "os": json.dumps({"family": family, "distro": distro, "version": version}),
                "disk": disk,
                "memory": memory,
                # Keep the listed order: the first image is the newest.
                "age": position,
            },
        )


def downgrade() -> None:
    op.get_bind().execute(
        text("DELETE FROM images WHERE image_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [image[0] for image in PUBLIC_IMAGES]},
    )
