"""Catalog persistence (asyncpg SQL) in the catalog's own schema: the only place with SQL.

One module per concern; everything is re-exported here, so callers write
``store.list_images(...)``.
"""

from services.catalog.store.accounts import (
    AccountRecord,
    get_account,
    lock_account,
    quota_standing,
    quota_used,
    record_stored,
    set_quota,
    stored,
)
from services.catalog.store.changes import (
    lock_image,
    lock_visible_image,
    mark_deleted,
    set_publish_status,
    update_text,
)
from services.catalog.store.images import (
    ImageRecord,
    ListQuery,
    decode_cursor,
    encode_cursor,
    get_image,
    get_visible_image,
    list_images,
    mark_failed,
    mark_ready,
    owner_of,
    record_progress,
)
from services.catalog.store.public import (
    NewPublicImage,
    claim_unannounced_public_images,
    insert_public_image,
    lock_public_image,
    mark_announced,
)
from services.catalog.store.requests import (
    Admission,
    admit,
    insert_refused,
    register_request,
)

__all__ = [
    "AccountRecord",
    "Admission",
    "ImageRecord",
    "ListQuery",
    "NewPublicImage",
    "admit",
    "claim_unannounced_public_images",
    "decode_cursor",
    "encode_cursor",
    "get_account",
    "get_image",
    "get_visible_image",
    "insert_public_image",
    "insert_refused",
    "list_images",
    "lock_account",
    "lock_image",
    "lock_public_image",
    "lock_visible_image",
    "mark_announced",
    "mark_deleted",
    "mark_failed",
    "mark_ready",
    "owner_of",
    "quota_standing",
    "quota_used",
    "record_progress",
    "record_stored",
    "register_request",
    "set_publish_status",
    "set_quota",
    "stored",
    "update_text",
]
