"""TOTP secrets at rest, one-time codes and recovery codes: codes that try to get in."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from infra.identity.security.totp import (
    InvalidRecoveryCodeError,
    RecoveryCodes,
    SecretDecryptionError,
    Totp,
    TotpSecrets,
    provisioning_uri,
    qr_png,
    qr_svg,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
NOW = 1_700_000_015.0  # 15 s into a 30 s step
STEP = int(NOW // 30)


@pytest.fixture
def secret() -> str:
    return TotpSecrets.new_secret()


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * 30)


def test_a_new_secret_is_160_random_bits_of_base32(secret):
    assert len(base64.b32decode(secret)) == 20
    assert secret != TotpSecrets.new_secret()


def test_a_secret_round_trips_through_encryption_for_its_account(secret):
    secrets_ = TotpSecrets(KEY)

    blob = secrets_.encrypt(secret, account_id="acct-1")

    assert secret.encode() not in blob
    assert secrets_.decrypt(blob, account_id="acct-1") == secret
    assert secrets_.encrypt(secret, account_id="acct-1") != blob  # fresh nonce


def test_a_blob_copied_to_another_account_does_not_decrypt(secret):
    secrets_ = TotpSecrets(KEY)
    blob = secrets_.encrypt(secret, account_id="acct-1")

    with pytest.raises(SecretDecryptionError):
        secrets_.decrypt(blob, account_id="acct-2")


@pytest.mark.parametrize("position", [1, 5, 13, 20, -1])
def test_a_tampered_blob_does_not_decrypt(secret, position):
    secrets_ = TotpSecrets(KEY)
    blob = bytearray(secrets_.encrypt(secret, account_id="acct-1"))
    blob[position] ^= 0x01

    with pytest.raises(SecretDecryptionError):
        secrets_.decrypt(bytes(blob), account_id="acct-1")


@pytest.mark.parametrize(
    "blob", [b"", b"\x01", b"\x01" + bytes(20), b"\x09" + bytes(40)]
)
def test_truncated_or_unknown_version_blobs_do_not_decrypt(blob):
    with pytest.raises(SecretDecryptionError):
        TotpSecrets(KEY).decrypt(blob, account_id="acct-1")


def test_a_blob_under_another_key_does_not_decrypt(secret):
    blob = TotpSecrets(OTHER_KEY).encrypt(secret, account_id="acct-1")

    with pytest.raises(SecretDecryptionError):
        TotpSecrets(KEY).decrypt(blob, account_id="acct-1")


def test_key_rotation_reads_old_blobs_and_writes_new_ones(secret):
    old = TotpSecrets(KEY, key_version=1)
    old_blob = old.encrypt(secret, account_id="acct-1")
    rotated = TotpSecrets(OTHER_KEY, key_version=2, previous_keys={1: KEY})

    assert rotated.decrypt(old_blob, account_id="acct-1") == secret
    assert rotated.needs_reencryption(old_blob)
    new_blob = rotated.encrypt(secret, account_id="acct-1")
    assert not rotated.needs_reencryption(new_blob)
    with pytest.raises(SecretDecryptionError):
        old.decrypt(new_blob, account_id="acct-1")


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(31), bytes(33)])
def test_keys_other_than_32_bytes_are_refused(key):
    with pytest.raises(ValueError, match="32 bytes"):
        TotpSecrets(key)


def test_the_provisioning_uri_carries_secret_label_and_issuer(secret):
    uri = provisioning_uri(secret, "alice@example.com", "AssureHub")

    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == "/AssureHub:alice@example.com"
    assert query["secret"] == [secret]
    assert query["issuer"] == ["AssureHub"]
    parsed_back = pyotp.parse_uri(uri)
    assert isinstance(parsed_back, pyotp.TOTP)
    assert parsed_back.at(NOW) == pyotp.TOTP(secret).at(NOW)


def test_the_qr_code_is_a_png_and_an_svg_document(secret):
    uri = provisioning_uri(secret, "alice@example.com", "AssureHub")

    png = qr_png(uri)
    svg = qr_svg(uri)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png[12:16] == b"IHDR"
    width = int.from_bytes(png[16:20], "big")
    assert width >= 5 * (29 + 8)  # scale 5, at least version 3, quiet zone
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


def test_a_current_code_is_accepted_once(secret):
    totp = Totp()
    code = code_at(secret, STEP)

    step = totp.verify(secret, code, now=NOW, last_used_step=None)

    assert step == STEP
    assert totp.verify(secret, code, now=NOW, last_used_step=step) is None
    assert totp.verify(secret, code, now=NOW + 10, last_used_step=step) is None


def test_an_older_code_still_in_the_window_is_refused_after_a_newer_one(secret):
    totp = Totp()
    newer = totp.verify(secret, code_at(secret, STEP), now=NOW, last_used_step=None)

    assert (
        totp.verify(secret, code_at(secret, STEP - 1), now=NOW, last_used_step=newer)
        is None
    )
    assert (
        totp.verify(secret, code_at(secret, STEP + 1), now=NOW, last_used_step=newer)
        == STEP + 1
    )


@pytest.mark.parametrize("drift", [-1, 1])
def test_one_step_of_clock_drift_is_accepted(secret, drift):
    code = code_at(secret, STEP + drift)

    assert Totp().verify(secret, code, now=NOW, last_used_step=None) == STEP + drift


@pytest.mark.parametrize("drift", [-3, -2, 2, 3])
def test_two_steps_of_drift_are_refused(secret, drift):
    code = code_at(secret, STEP + drift)

    assert Totp().verify(secret, code, now=NOW, last_used_step=None) is None


def test_another_secrets_code_is_refused(secret):
    code = code_at(TotpSecrets.new_secret(), STEP)

    assert Totp().verify(secret, code, now=NOW, last_used_step=None) is None


def test_a_code_typed_with_a_space_is_read(secret):
    code = code_at(secret, STEP)

    spaced = f" {code[:3]} {code[3:]} "
    assert Totp().verify(secret, spaced, now=NOW, last_used_step=None) == STEP


@pytest.mark.parametrize("mangle", ["short", "long", "letters", "unicode", "empty"])
def test_input_that_is_not_six_ascii_digits_is_refused(secret, mangle):
    code = code_at(secret, STEP)
    typed = {
        "short": code[:5],
        "long": code + "0",
        "letters": code[:5] + "a",
        "unicode": "".join(chr(0xFF10 + int(d)) for d in code),  # full-width
        "empty": "",
    }[mangle]

    assert Totp().verify(secret, typed, now=NOW, last_used_step=None) is None


def test_recovery_codes_are_ten_distinct_grouped_codes_stored_hashed():
    codes, hashes = RecoveryCodes(KEY).generate()

    assert len(codes) == len(set(codes)) == 10
    assert len(hashes) == len(set(hashes)) == 10
    for code in codes:
        assert len(code) == 19
        assert code.count("-") == 3
        assert all(code not in stored for stored in hashes)


def test_a_recovery_code_works_once():
    recovery = RecoveryCodes(KEY)
    codes, hashes = recovery.generate()

    remaining = recovery.use(codes[3], hashes)

    assert len(remaining) == 9
    assert set(remaining) == set(hashes) - {hashes[3]}
    with pytest.raises(InvalidRecoveryCodeError):
        recovery.use(codes[3], remaining)
    assert len(recovery.use(codes[4], remaining)) == 8


def test_a_recovery_code_is_read_ignoring_case_spaces_and_dashes():
    recovery = RecoveryCodes(KEY)
    codes, hashes = recovery.generate()

    typed = " " + codes[0].replace("-", " ").lower() + " "

    assert len(recovery.use(typed, hashes)) == 9


def test_a_made_up_or_other_key_recovery_code_is_refused():
    codes, hashes = RecoveryCodes(KEY).generate()

    with pytest.raises(InvalidRecoveryCodeError):
        RecoveryCodes(KEY).use("0000-0000-0000-0000", hashes)
    with pytest.raises(InvalidRecoveryCodeError):
        RecoveryCodes(OTHER_KEY).use(codes[0], hashes)


def test_regenerating_recovery_codes_invalidates_the_old_ones():
    recovery = RecoveryCodes(KEY)
    old_codes, _ = recovery.generate()
    _, new_hashes = recovery.generate()

    with pytest.raises(InvalidRecoveryCodeError):
        recovery.use(old_codes[0], new_hashes)


def test_a_short_recovery_key_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        RecoveryCodes(bytes(16))
