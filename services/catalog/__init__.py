"""The catalog: every image a tenant sees, its state, quota and storage usage.

OWNS the ``catalog`` schema: images, accounts (quota C6, stored bytes C9), memberships
(sharing's facts, as the catalog keeps them), and the messaging tables.
CONSUMES CaptureRequested, CaptureProgressed, ImageReady, CaptureFailed, ShareOffered,
ShareAccepted, ShareRejected, ShareRevoked.
PRODUCES CaptureAccepted, CaptureRefused, CaptureRequested (the console's creates),
ImageUpdated, ImageDeleted, PublicImageAdded, PublicImageRetired, StorageUsageChanged.
SERVES /v1/images (lists, detail, create, modify, delete, batch delete), /v1/usage,
/v1/launch-checks, and for admins /v1/accounts/{id}/quota, /v1/images/{id}/publish|unpublish,
/v1/public-images.
"""
