"""Checks of what capture stored, as a test reads it: a qcow2 image of the source disk."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from services.capture.adapters.tools import tool_path


def identical(source: Path, image: Path, source_format: str = "raw") -> bool:
    """``qemu-img compare``: the guest sees the same bytes in both (sizes included)."""
    compared = subprocess.run(
        [tool_path("qemu-img"), "compare", "-f", source_format, "-F", "qcow2",
         str(source), str(image)],
        capture_output=True, timeout=600,
    )  # fmt: skip
    return compared.returncode == 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def stored_format(image: Path) -> str:
    with image.open("rb") as file:
        return "qcow2" if file.read(4) == b"QFI\xfb" else "other"
