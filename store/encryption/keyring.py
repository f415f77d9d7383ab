"""Keys and authenticated encryption for values at rest (SPEC 12).

A key file holds one key a line (`touchlog keys new` prints one); the first encrypts, every one
decrypts. A sealed value is `tl1:<key id>:<base64(nonce + ciphertext + tag)>`: AES-256-GCM with
the value's place (table, column, row) as associated data, so a value copied into another row
or column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from core.errors import ConfigError

KEY_PREFIX = "touchlog-key-1:"
SEALED_PREFIX = "tl1:"
_NONCE = 12


class SealError(ConfigError):
    """A value that cannot be opened: the key is not in the file, or the value was altered or
    moved. Never shown as text, never replaced by the ciphertext."""


def new_key() -> str:
    """A fresh key line for the key file."""
    return KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"touchlog key id" + key).hexdigest()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The keys of an encryption key file (SPEC 12), one a line: the first seals, any opens."""

    path: Path
    keys: tuple[bytes, ...]  # the first encrypts

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """The keys of `path`; one line naming the file when it is missing, open to others or
        holds no valid key."""
        where = "database.encryption_key_file"
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise ConfigError(f"{where}: {path} not found (make one: touchlog keys new > "
                              f"{path}; chmod 600 {path})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read {path}: {exc}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{where}: {path} is readable by group or others; "
                              f"run chmod 600 {path}")
        keys = tuple(_parse_key(line, path, n) for n, line in enumerate(text.splitlines(), 1)
                     if line.strip() and not line.lstrip().startswith("#"))
        if not keys:
            raise ConfigError(f"{where}: {path} holds no key (touchlog keys new >> {path})")
        return cls(path, keys)

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def seal(self, data: bytes, place: str) -> bytes:
        """Encrypt `data` with the first key, bound to `place`."""
        nonce = os.urandom(_NONCE)
        prefix, cipher = self._sealing
        return prefix + nonce + cipher.encrypt(nonce, data, place.encode())

    def open(self, blob: bytes, place: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        kid, _, rest = blob.partition(b":")
        cipher = self._opening(kid.decode("ascii", "replace"), place)
        try:
            return cipher.decrypt(rest[:_NONCE], rest[_NONCE:], place.encode())
        except InvalidTag:
            raise SealError(f"{place}: the encrypted value does not open with its key from "
                            f"{self.path}: it was altered or moved from another row") from None

    def seal_text(self, text: str, place: str) -> str:
        blob = self.seal(text.encode("utf-8", "surrogatepass"), place)
        return SEALED_PREFIX + base64.b64encode(blob).decode("ascii")

    def open_text(self, value: str, place: str) -> str:
        blob = base64.b64decode(value[len(SEALED_PREFIX):])
        return self.open(blob, place).decode("utf-8", "surrogatepass")

    def keyed_name(self, sha256_hex: str) -> str:
        """An attachment's file name: equal files share it, yet it tells nothing of the bytes
        to someone without the key (a plain sha256 confirms a guessed file)."""
        return hmac.new(self.keys[0], b"attachment:" + sha256_hex.encode(),
                        hashlib.sha256).hexdigest()

    # A pass seals several values a message: the cipher of each key is made once, not per
    # value: making it, and the key id (a sha256), was most of what sealing a value cost.
    @cached_property
    def _sealing(self) -> tuple[bytes, Any]:
        return self.current_id.encode() + b":", _cipher(self.keys[0])

    @cached_property
    def _ciphers(self) -> dict[str, Any]:
        return {key_id(key): _cipher(key) for key in reversed(self.keys)}

    def _opening(self, kid: str, place: str) -> Any:
        cipher = self._ciphers.get(kid)
        if cipher is not None:
            return cipher
        raise SealError(f"{place}: encrypted with key {kid}, which is not in {self.path} "
                        "(a key removed too early, or the wrong file)")


def _cipher(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only with a key file

    return AESGCM(key)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def _parse_key(line: str, path: Path, number: int) -> bytes:
    text = line.strip()
    try:
        if not text.startswith(KEY_PREFIX):
            raise ValueError
        key = base64.urlsafe_b64decode(text[len(KEY_PREFIX):])
        if len(key) != 32:
            raise ValueError
    except ValueError:
        raise ConfigError(f"database.encryption_key_file: {path} line {number} is not a key "
                          "made by touchlog keys new") from None
    return key
