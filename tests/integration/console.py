"""The catalog's HTTP API as the console (or an admin's tool) calls it, for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from ims_testkit.tokens import Issuer
from tests.harness import Bus, ServiceProcess
from tests.integration import facts


class Console:
    """One account's session with one catalog process."""

    def __init__(
        self,
        catalog: ServiceProcess,
        issuer: Issuer,
        account_id: UUID | None = None,
        *,
        admin: bool = False,
        language: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.account_id = account_id or uuid4()
        roles = ("admin",) if admin else ()
        token = issuer.token(self.account_id, "ops" if admin else "tenant", roles=roles)
        self.headers = {"Authorization": f"Bearer {token}"}
        if language:
            self.headers["Accept-Language"] = language

    def at(self, catalog: ServiceProcess) -> Console:
        """The same account on another catalog process."""
        other = Console.__new__(Console)
        other.catalog, other.account_id, other.headers = catalog, self.account_id, self.headers
        return other

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.request(method, self.catalog.url(path), headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params)

    def create(self, host_id: UUID, name: str = "web-golden", **body: Any) -> httpx.Response:
        payload = {"host_id": str(host_id), "name": name, **body}
        return self.request("POST", "/v1/images", json=payload)

    def image(self, image_id: UUID | str) -> httpx.Response:
        return self.get(f"/v1/images/{image_id}")

    def status(self, image_id: UUID | str) -> str | None:
        response = self.image(image_id)
        return str(response.json()["status"]) if response.status_code == 200 else None

    def modify(self, image_id: UUID | str, **body: Any) -> httpx.Response:
        return self.request("PATCH", f"/v1/images/{image_id}", json=body)

    def delete(self, image_id: UUID | str) -> httpx.Response:
        return self.request("DELETE", f"/v1/images/{image_id}")

    def delete_many(self, image_ids: list[UUID | str]) -> httpx.Response:
        ids = [str(i) for i in image_ids]
        return self.request("POST", "/v1/images/delete", json={"image_ids": ids})

    def private_tab(self, **params: Any) -> dict[str, Any]:
        page: dict[str, Any] = self.get("/v1/images", tab="private", limit=100, **params).json()
        return page


async def stopped_host(
    bus: Bus, directory: Path, account_id: UUID, size_bytes: int = 4096, *, state: str = "stopped"
) -> UUID:
    """A host of ``account_id`` as ECS announces it, with a real disk file."""
    host_id = uuid4()
    disk = facts.make_disk(directory, size_bytes)
    await bus.send(
        facts.host(account_id, host_id, disk, state=state), subject=host_id, tenant=account_id
    )
    return host_id
