"""The image store on a real file system: staging, removing what a capture left behind."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from services.capture.image_store import ImageStore


def test_remove_staged_deletes_only_the_staged_copies_of_that_image(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images", tmp_path / "disks")
    (tmp_path / "images").mkdir()
    image, other = uuid4(), uuid4()
    mine = [tmp_path / "images" / f".{image}.raw.{uuid4().hex}.partial" for _ in range(2)]
    kept = [
        tmp_path / "images" / f"{image}.raw",  # published by an attempt that then crashed
        tmp_path / "images" / f".{other}.raw.{uuid4().hex}.partial",  # another image's copy
        tmp_path / "images" / f"{other}.raw",
    ]
    for path in mine + kept:
        path.write_bytes(b"x")

    assert store.remove_staged(image) == 2

    assert not any(path.exists() for path in mine)
    assert all(path.exists() for path in kept)
    assert store.remove_staged(image) == 0
