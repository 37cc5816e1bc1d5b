"""The notifier: tells an account what concerns it.

OWNS (schema ``notifier``): ``notices`` (each account's inbox), ``prompt_offers`` (each
recipient's pending offers), ``prompts`` (each prompt's publication state).
CONSUMES: ImageReady, CaptureFailed, CaptureRefused, ShareOffered, ShareAccepted,
ShareRejected, ShareRevoked.
PRODUCES: OwnerNotified, SharePromptUpdated.
SERVES: ``GET /v1/notices``, ``POST /v1/notices/{notice_id}/read``, ``GET /v1/prompts``.
"""
