"""Deliveries are signed as Standard Webhooks: the standardwebhooks library
(a client nobody here wrote) verifies them, with either secret while one is
being rotated, and refuses a changed body."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from infra.webhooks.signing import SECRET_PREFIX, headers, mint_secret

BODY = b'{"id":"e1","type":"assurehub.organization.registered.v2"}'


def test_a_minted_secret_is_whsec_and_32_random_bytes_in_base64():
    a, b = mint_secret(), mint_secret()
    assert a.startswith(SECRET_PREFIX)
    assert a != b
    assert len(base64.b64decode(a.removeprefix(SECRET_PREFIX))) == 32


def test_the_library_verifies_a_signed_delivery():
    secret = mint_secret()
    signed = headers([secret], "msg_1", int(time.time()), BODY)
    assert signed["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, signed)["id"] == "e1"


def test_during_a_rotation_both_secrets_verify_and_a_third_does_not():
    old, new = mint_secret(), mint_secret()
    signed = headers([new, old], "msg_2", int(time.time()), BODY)
    assert len(signed["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, signed)
    Webhook(new).verify(BODY, signed)
    with pytest.raises(WebhookVerificationError):
        Webhook(mint_secret()).verify(BODY, signed)


def test_a_changed_body_or_id_does_not_verify():
    secret = mint_secret()
    signed = headers([secret], "msg_3", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"e1", b"e2"), signed)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**signed, "webhook-id": "msg_4"})
