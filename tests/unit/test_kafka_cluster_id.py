"""Kafka cluster ids the local stack makes must be accepted by Kafka's storage tool."""

from __future__ import annotations

import base64

from deploy.stack.kafka import new_cluster_id


def test_cluster_ids_are_16_bytes_base64url_and_never_look_like_an_option() -> None:
    ids = [new_cluster_id() for _ in range(5000)]  # a leading '-' came about 1 in 64
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
