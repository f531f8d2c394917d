"""backup_crypto: AES-256-GCM artifacts that fail loudly when changed, truncated or opened with another key."""

from __future__ import annotations

import os

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_crypto as crypto


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(os.urandom(3 * crypto.CHUNK + 123))
    return path


def test_round_trip(tmp_path, plain):
    size, digest = crypto.encrypt_file(str(plain), str(tmp_path / "x.enc"), "k1")
    assert size == (tmp_path / "x.enc").stat().st_size == plain.stat().st_size + crypto.HEADER_BYTES + crypto.TAG_BYTES
    assert len(digest) == 64
    assert crypto.is_encrypted(str(tmp_path / "x.enc")) and not crypto.is_encrypted(str(plain))
    crypto.decrypt_file(str(tmp_path / "x.enc"), str(tmp_path / "back"), "k1")
    assert (tmp_path / "back").read_bytes() == plain.read_bytes()


def test_every_file_gets_its_own_salt_and_nonce(tmp_path, plain):
    crypto.encrypt_file(str(plain), str(tmp_path / "a"), "k1")
    crypto.encrypt_file(str(plain), str(tmp_path / "b"), "k1")
    assert (tmp_path / "a").read_bytes() != (tmp_path / "b").read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:100] + bytes([data[100] ^ 1]) + data[101:],  # a flipped byte in the ciphertext
        lambda data: data[:-1] + bytes([data[-1] ^ 0x80]),  # in the tag
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[: crypto.HEADER_BYTES + crypto.TAG_BYTES],  # truncated to nothing
    ],
)
def test_changed_or_truncated_files_fail_and_leave_no_output(tmp_path, plain, damage):
    crypto.encrypt_file(str(plain), str(tmp_path / "x.enc"), "k1")
    data = (tmp_path / "x.enc").read_bytes()
    (tmp_path / "x.enc").write_bytes(damage(data))
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_file(str(tmp_path / "x.enc"), str(tmp_path / "back"), "k1")
    assert not (tmp_path / "back").exists()


def test_wrong_key_and_foreign_files(tmp_path, plain):
    crypto.encrypt_file(str(plain), str(tmp_path / "x.enc"), "k1")
    with pytest.raises(crypto.CryptoError, match="failed authentication"):
        crypto.decrypt_file(str(tmp_path / "x.enc"), str(tmp_path / "back"), "k2")
    (tmp_path / "short").write_bytes(b"abc")
    with pytest.raises(crypto.CryptoError, match="truncated"):
        crypto.decrypt_file(str(tmp_path / "short"), str(tmp_path / "back"), "k1")
    with pytest.raises(crypto.CryptoError, match="unknown header"):
        crypto.decrypt_file(str(plain), str(tmp_path / "back"), "k1")
    with pytest.raises(crypto.CryptoError, match="empty"):
        crypto.encrypt_file(str(plain), str(tmp_path / "y"), "")


def test_key_id_names_a_key_without_revealing_it():
    assert crypto.key_id("k1") == crypto.key_id("k1") != crypto.key_id("k2")
    assert len(crypto.key_id("k1")) == 16 and "k1" not in crypto.key_id("k1")
