"""Secrets generated once per state dir (never in git), kept in files only root can read."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_file(state_dir: Path, name: str) -> Path:
    return state_dir / "secrets" / name


def ensure_secret(state_dir: Path, name: str) -> str:
    """The secret called `name`, created on first use (URL-safe, so it fits in a DSN)."""
    path = secret_file(state_dir, name)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    # O_EXCL: two concurrent `up`s cannot end up with different secrets.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, owner-only from the first byte (it holds secrets:
    passwords, tokens), atomically (a reader never sees half a file)."""
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a partial left by an older run may have other bits
    with os.fdopen(fd, "w") as f:
        f.write(text)
    partial.replace(path)
