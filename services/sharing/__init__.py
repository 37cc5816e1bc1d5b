"""Sharing: an owner offers its private images to other accounts, which accept or reject.

OWNS its database: ``accounts`` (IAM's accounts as last stated), ``images`` (what
the catalog and capture said of each image), ``memberships`` (offers and their answers) and
the messaging tables.
CONSUMES AccountChanged (IAM), CaptureAccepted, ImageUpdated, ImageDeleted,
PublicImageAdded, PublicImageRetired (catalog), ImageReady and CaptureFailed (capture).
PRODUCES ShareOffered, ShareAccepted, ShareRejected and ShareRevoked.
SERVES ``/v1/images/{id}/members``, ``/v1/shares`` (owners) and ``/v1/shared-images``
(recipients).
"""
