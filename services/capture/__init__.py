"""Capture: makes a private image of a stopped ECS host's system disk.

OWNS the ``capture`` schema: ``hosts`` (ECS's hosts as last described), ``capture_jobs``
(the queue the workers take captures from) and the messaging tables.
CONSUMES HostChanged (ECS), CaptureAccepted and ImageDeleted (catalog).
PRODUCES CaptureProgressed, ImageReady and CaptureFailed.
SERVES ``GET /v1/hosts`` (the console's picker of hosts to capture).
"""
