# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encryption of backup artifacts: AES-256-GCM, streamed, with a key derived by scrypt.

File layout (all integers big endian)::

    magic  b"SDDBK1\\n"   7 bytes
    salt                  16 bytes  (scrypt salt, new for every file)
    nonce                 12 bytes  (GCM nonce, new for every file)
    ciphertext            n bytes
    tag                   16 bytes  (GCM authentication tag)

The tag authenticates the whole file: a flipped byte, a truncated file or a wrong key
all fail decryption, and the partly decrypted output is removed. The key is any
string (a passphrase or random bytes in base64); scrypt turns it into 32 bytes.

Needs the ``cryptography`` package (Debian ``python3-cryptography``). Runs on the
managed host under Python 3.9+, with no Ansible import, so scheduled runs can use it.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Optional, Tuple

MAGIC = b"SDDBK1\n"
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
CHUNK = 1024 * 1024
ALGORITHM = "AES-256-GCM"
KDF = "scrypt-n16384-r8-p1"
HEADER_BYTES = len(MAGIC) + SALT_BYTES + NONCE_BYTES


class CryptoError(Exception):
    """Encryption or decryption failed (missing library, corrupt file, wrong key)."""


def _backend() -> Tuple[Any, Any, Any, Any]:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError as exc:  # pragma: no cover - depends on the host
        raise CryptoError(
            "encryption needs the Python package cryptography on the host "
            "(Debian/Ubuntu: python3-cryptography): %s" % exc
        ) from exc
    return Cipher, algorithms, modes, Scrypt


def derive_key(secret: str, salt: bytes) -> bytes:
    """32 key bytes from a secret string (scrypt, n=2**14, r=8, p=1)."""
    if not secret:
        raise CryptoError("the encryption key is empty")
    scrypt_class = _backend()[3]
    derived: bytes = scrypt_class(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret.encode("utf-8"))
    return derived


def key_id(secret: str) -> str:
    """A short public identifier of a key (to tell which key a backup needs).

    Derived through scrypt with a fixed salt, so it does not make guessing a weak
    passphrase any cheaper than attacking an encrypted file.
    """
    return derive_key(secret, b"sdd.devops_flow backup key id")[:8].hex()


def encrypt_file(source: str, dest: str, secret: str) -> Tuple[int, str]:
    """Encrypt ``source`` into ``dest``; return the size and sha256 of ``dest``."""
    cipher_class, algorithms, modes = _backend()[:3]
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    encryptor = cipher_class(algorithms.AES(derive_key(secret, salt)), modes.GCM(nonce)).encryptor()
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as src, open(dest, "wb") as out:

        def write(data: bytes) -> None:
            nonlocal size
            out.write(data)
            digest.update(data)
            size += len(data)

        write(MAGIC + salt + nonce)
        while True:
            block = src.read(CHUNK)
            if not block:
                break
            write(encryptor.update(block))
        write(encryptor.finalize())
        write(encryptor.tag)
    return size, digest.hexdigest()


def is_encrypted(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def decrypt_file(source: str, dest: str, secret: str) -> Tuple[int, str]:
    """Decrypt ``source`` into ``dest``; return the size and sha256 of the plain text.

    Raises CryptoError (and leaves no ``dest``) when the file is not one of ours, is
    truncated, was changed, or the key is wrong.
    """
    cipher_class, algorithms, modes = _backend()[:3]
    total = os.path.getsize(source)
    if total < HEADER_BYTES + TAG_BYTES:
        raise CryptoError(
            "%s is truncated (%d bytes, an encrypted artifact has at least %d)"
            % (source, total, HEADER_BYTES + TAG_BYTES)
        )
    digest = hashlib.sha256()
    size = 0
    failure: Optional[str] = None
    with open(source, "rb") as src:
        header = src.read(HEADER_BYTES)
        if header[: len(MAGIC)] != MAGIC:
            raise CryptoError("%s is not an encrypted backup artifact (unknown header)" % source)
        salt = header[len(MAGIC) : len(MAGIC) + SALT_BYTES]
        nonce = header[len(MAGIC) + SALT_BYTES :]
        src.seek(total - TAG_BYTES)
        tag = src.read(TAG_BYTES)
        src.seek(HEADER_BYTES)
        decryptor = cipher_class(algorithms.AES(derive_key(secret, salt)), modes.GCM(nonce, tag)).decryptor()
        remaining = total - HEADER_BYTES - TAG_BYTES
        with open(dest, "wb") as out:
            while remaining > 0:
                block = src.read(min(CHUNK, remaining))
                if not block:
                    failure = "%s ended early" % source
                    break
                remaining -= len(block)
                plain = decryptor.update(block)
                out.write(plain)
                digest.update(plain)
                size += len(plain)
            if failure is None:
                try:
                    tail = decryptor.finalize()
                except Exception:  # cryptography raises InvalidTag
                    failure = (
                        "%s failed authentication: the file was changed or truncated, "
                        "or the key is not the one it was encrypted with" % source
                    )
                else:
                    out.write(tail)
                    digest.update(tail)
                    size += len(tail)
    if failure is not None:
        os.unlink(dest)
        raise CryptoError(failure)
    return size, digest.hexdigest()
