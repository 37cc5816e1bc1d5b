"""Sharing's rules without I/O: who may share what with whom (S2), how answers move a
membership (S3, S5, S6), which refusals answer a request as a whole, and the words a person
reads when something is refused.

- :mod:`.model` — the values sharing keeps and answers (images, accounts, memberships, the
  results of a share or an answer);
- :mod:`.refusals` — each refusal (the one :class:`services.common.refusals.Refusal`);
- :mod:`.rules` — the decisions.
"""

from __future__ import annotations

from services.sharing.domain.model import (
    MEMBER_LIMIT,
    STATUS_LABELS,
    Account,
    Actor,
    Answer,
    AnswerOutcome,
    AnswerResult,
    Image,
    ImageStatus,
    Membership,
    MemberStatus,
    Offer,
    Project,
    Recipient,
    ShareOutcome,
    ShareResult,
)
from services.sharing.domain.refusals import (
    account_not_found,
    image_not_found,
    image_not_normal,
    member_limit_reached,
    member_not_found,
    offer_not_found,
    project_in_other_region,
    project_not_found,
    project_required,
    public_image,
    sharing_with_self,
)
from services.sharing.domain.rules import (
    answered,
    manageable,
    members_summary,
    offer_to,
    recipient,
    refusal_of_answers,
    refusal_of_image,
    remaining,
    shareable,
)

__all__ = [
    "MEMBER_LIMIT",
    "STATUS_LABELS",
    "Account",
    "Actor",
    "Answer",
    "AnswerOutcome",
    "AnswerResult",
    "Image",
    "ImageStatus",
    "MemberStatus",
    "Membership",
    "Offer",
    "Project",
    "Recipient",
    "ShareOutcome",
    "ShareResult",
    "account_not_found",
    "answered",
    "image_not_found",
    "image_not_normal",
    "manageable",
    "member_limit_reached",
    "member_not_found",
    "members_summary",
    "offer_not_found",
    "offer_to",
    "project_in_other_region",
    "project_not_found",
    "project_required",
    "public_image",
    "recipient",
    "refusal_of_answers",
    "refusal_of_image",
    "remaining",
    "shareable",
    "sharing_with_self",
]
