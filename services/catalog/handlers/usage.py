"""Storage usage (C9): the bytes an account stores, announced to billing when they change.

Stored means the files of the account's ``normal`` private images: a finished capture adds
one, a deletion removes one, a failed capture stores nothing (capture deletes its copy).
The figures are recounted under the account's lock in the transaction that changed them,
so they are exact and each change is announced once, in order (a version line per account).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from schemas.events import STORAGE_USAGE, StorageUsageChanged
from services.catalog.ports import Store
from services.common.ports import UnitOfWork


async def restate_stored(
    uow: UnitOfWork[Store], account_id: UUID, image_id: UUID, at: datetime
) -> None:
    """After ``image_id`` was stored or deleted: record and announce the new totals."""
    account = await uow.store.lock_account(account_id)
    stored_bytes, stored_images = await uow.store.stored(account_id)
    if (stored_bytes, stored_images) == (account.stored_bytes, account.stored_images):
        return  # nothing billing needs to hear
    await uow.store.record_stored(account_id, stored_bytes, stored_images, at)
    await uow.emit(
        StorageUsageChanged(
            account_id=account_id,
            stored_bytes=stored_bytes,
            stored_images=stored_images,
            image_id=image_id,
            delta_bytes=stored_bytes - account.stored_bytes,
            changed_at=at,
        ),
        aggregate_type=STORAGE_USAGE,
        aggregate_id=str(account_id),
        tenant=str(account_id),
    )
