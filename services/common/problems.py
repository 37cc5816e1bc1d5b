"""Which HTTP status answers each refusal code: one map for every service's API
(:func:`services.common.http.problem_of` renders the document).

A refusal of a whole request becomes a problem document (RFC 9457) with the refusal's
``code``, its message in the request's language and its facts as extension members.
Another account's private image, an unknown member or offer answer 404 exactly like a
missing one (never 403: that would tell that it exists).
"""

from __future__ import annotations

from collections.abc import Mapping

STATUS_OF_CODE: Mapping[str, int] = {
    # Missing, or not the caller's to see: answered alike.
    "image_not_found": 404,
    "member_not_found": 404,
    "offer_not_found": 404,
    "not_found": 404,  # e.g. a notice (notifier)
    "host_not_found": 404,
    # Visible but not the caller's to change (a public image), or not the caller's to read.
    "image_not_owned": 403,
    "forbidden": 403,
    # The image's state or the account's limits forbid it now.
    "invalid_image_status": 409,
    "image_not_normal": 409,
    "image_published": 409,
    "public_image": 409,
    "quota_exceeded": 409,
    "image_exists": 409,
    "idempotency_key_reused": 409,
    "member_limit_reached": 409,
    # The request itself is wrong.
    "invalid_name": 422,
    "invalid_description": 422,
    "nothing_to_update": 422,
    "invalid_cursor": 400,
}
# A code not named above is a request the rules refuse as it is.
DEFAULT_STATUS = 400


def status_of(code: str) -> int:
    return STATUS_OF_CODE.get(code, DEFAULT_STATUS)
