"""The docker command line, pointed at one engine: inspect, build (classic builder), import."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.stack.process import StackError, run_checked


@dataclass(frozen=True)
class DockerCli:
    host: str  # DOCKER_HOST, e.g. unix:///run/ims-docker-…/docker.sock

    def env(self) -> dict[str, str]:
        # BuildKit and buildx are not available here: the classic builder, always.
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0"}

    def _argv(self, *args: str) -> list[str]:
        docker = shutil.which("docker")
        if docker is None:
            raise StackError("docker (the client) not found: install docker.io")
        return [docker, *args]

    def image_id(self, ref: str) -> str | None:
        """The id of a local image, or None when the engine does not have it."""
        done = subprocess.run(
            self._argv("image", "inspect", "--format", "{{.Id}}", ref),
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def build(
        self, context: Path, tag: str, build_args: dict[str, str], log: Path, timeout_s: float
    ) -> None:
        """`docker build` with the host network (no bridge exists for build steps)."""
        args = [arg for k, v in sorted(build_args.items()) for arg in ("--build-arg", f"{k}={v}")]
        argv = self._argv("build", "--network", "host", "--tag", tag, *args, str(context))
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            try:
                done = subprocess.run(
                    argv,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env(),
                    timeout=timeout_s,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired as exc:
                raise StackError(f"building {tag}: timed out after {timeout_s:.0f}s") from exc
        if done.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            raise StackError(f"building {tag} failed (log {log}):\n{tail}")

    def import_rootfs(self, rootfs: Path, tag: str, changes: list[str]) -> None:
        """`tar -C rootfs -c . | docker import - tag`."""
        change_args = [arg for change in changes for arg in ("--change", change)]
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
            stdout=subprocess.PIPE,
        )
        try:
            done = subprocess.run(
                self._argv("import", *change_args, "-", tag),
                stdin=tar.stdout,
                capture_output=True,
                text=True,
                env=self.env(),
                timeout=600,
                check=False,
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait(60)
        if done.returncode != 0 or tar.returncode != 0:
            raise StackError(f"docker import {tag} failed:\n{done.stderr[-2000:]}")

    def remove_image(self, ref: str) -> None:
        run_checked(self._argv("image", "rm", "--force", ref), f"removing {ref}", 120, self.env())
