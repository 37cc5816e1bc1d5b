"""The platform's public images (C1), seeded at install by a migration."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5


@dataclass(frozen=True)
class PublicImage:
    slug: str
    name: str
    family: str
    distro: str
    version: str
    system_disk_gb: int
    min_memory_mb: int

    @property
    def image_id(self) -> UUID:
        # Stable ids: every region and every reinstall names a public image the same way.
        return uuid5(NAMESPACE_URL, f"ims:public-image:{self.slug}")


PLATFORM_IMAGES: tuple[PublicImage, ...] = (
    PublicImage("centos-7.9", "CentOS 7.9 64bit", "linux", "CentOS", "7.9", 40, 1024),
    PublicImage("ubuntu-22.04", "Ubuntu 22.04 server 64bit", "linux", "Ubuntu", "22.04", 40, 1024),
    PublicImage("debian-12", "Debian 12 64bit", "linux", "Debian", "12", 40, 1024),
    PublicImage("euleros-2.9", "EulerOS 2.9 64bit", "linux", "EulerOS", "2.9", 40, 1024),
    PublicImage(
        "windows-2019-dc",
        "Windows Server 2019 Datacenter 64bit",
        "windows",
        "Windows Server",
        "2019 Datacenter",
        40,
        2048,
    ),
    PublicImage(
        "windows-2022-dc",
        "Windows Server 2022 Datacenter 64bit",
        "windows",
        "Windows Server",
        "2022 Datacenter",
        40,
        2048,
    ),
)
