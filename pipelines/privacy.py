"""Pseudonymisation of personal identifiers with a keyed hash (HMAC-SHA256).

The key is 32 random bytes in a file outside the repository (see settings.key_path), created by
`zhengtai init`. The warehouse stores only a fingerprint of the key, so ingesting with another key
is refused instead of silently splitting one person into two pseudonyms.

The hash runs inside DuckDB as a temporary macro (HMAC spelled out over sha256), so millions of
values are pseudonymised set-wise; `Pseudonymiser` computes the same in Python for tests and look-ups.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.errors import UserError

PREFIX = {"person": "P", "id_number": "I", "phone": "T"}
_DIGEST_CHARS = 16  # 64 bits: no collision in practice at national scale (tens of millions of people)


def create_key(path: Path) -> bool:
    """Create the key file (mode 0600) if it does not exist; True when created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return True


def read_key(path: Path) -> bytes:
    try:
        text = path.read_bytes().decode("ascii", "replace").strip()
    except IsADirectoryError:
        raise UserError(f"pseudonymisation key {path} is a directory; point --key at the key file") from None
    except FileNotFoundError:
        raise UserError(
            f"pseudonymisation key {path} not found: run `zhengtai init` or point --key / ZHENGTAI_KEY_FILE at the team's key"
        ) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise UserError(f"pseudonymisation key {path} is not a hex key; restore the team's key file") from None
    if len(key) < 16:
        raise UserError(f"pseudonymisation key {path} is too short (need at least 16 bytes)")
    return key


def normalise_person(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def normalise_phone(value: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes

    @classmethod
    def from_file(cls, path: Path) -> "Pseudonymiser":
        return cls(read_key(path))

    @property
    def fingerprint(self) -> str:
        """Identifies the key without revealing it: stored in the warehouse to refuse a mismatched key."""
        return hmac.new(self.key, b"zhengtai-key-fingerprint", hashlib.sha256).hexdigest()[:16]

    def _pads(self) -> tuple[str, str]:
        block = self.key if len(self.key) <= 64 else hashlib.sha256(self.key).digest()
        block = block.ljust(64, b"\0")
        ipad = bytes(b ^ 0x36 for b in block)
        opad = bytes(b ^ 0x5C for b in block)
        return ipad.hex(), opad.hex()

    def digest(self, normalised: str) -> str:
        return hmac.new(self.key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()

    def pseudonym(self, value: str, kind: str) -> str:
        norm = {"person": normalise_person, "id_number": normalise_id_number, "phone": normalise_phone}[kind](value)
        return PREFIX[kind] + self.digest(norm)[:_DIGEST_CHARS]

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Define zt_pid_person/zt_pid_id/zt_pid_phone(x) as temporary macros on this connection only.

        TEMP macros live in the connection's memory: the key never reaches the database file.
        """
        ipad, opad = self._pads()
        hmac_sql = f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode(x))))"
        con.execute(f"CREATE OR REPLACE TEMP MACRO zt_hmac(x) AS {hmac_sql}")
        con.execute(
            "CREATE OR REPLACE TEMP MACRO zt_pid_person(x) AS "
            f"CASE WHEN x IS NULL THEN NULL ELSE 'P' || substr(zt_hmac(regexp_replace(x, '\\s', '', 'g')), 1, {_DIGEST_CHARS}) END"
        )
        con.execute(
            "CREATE OR REPLACE TEMP MACRO zt_pid_id(x) AS "
            f"CASE WHEN x IS NULL THEN NULL ELSE 'I' || substr(zt_hmac(upper(regexp_replace(x, '\\s', '', 'g'))), 1, {_DIGEST_CHARS}) END"
        )
        con.execute(
            "CREATE OR REPLACE TEMP MACRO zt_phone_digits(x) AS "
            "CASE WHEN length(regexp_replace(x, '\\D', '', 'g')) = 13 AND starts_with(regexp_replace(x, '\\D', '', 'g'), '86') "
            "THEN substr(regexp_replace(x, '\\D', '', 'g'), 3) ELSE regexp_replace(x, '\\D', '', 'g') END"
        )
        con.execute(
            "CREATE OR REPLACE TEMP MACRO zt_pid_phone(x) AS "
            f"CASE WHEN x IS NULL THEN NULL ELSE 'T' || substr(zt_hmac(zt_phone_digits(x)), 1, {_DIGEST_CHARS}) END"
        )


def check_fingerprint(con: duckdb.DuckDBPyConnection, pseudo: Pseudonymiser) -> None:
    """Refuse a key other than the one the warehouse was created with."""
    rows = con.execute("SELECT value FROM warehouse_meta WHERE key = 'key_fingerprint'").fetchall()
    row = rows[0] if rows else None
    if row is None:
        con.execute("INSERT INTO warehouse_meta VALUES ('key_fingerprint', ?)", [pseudo.fingerprint])
    elif row[0] != pseudo.fingerprint:
        raise UserError(
            "this database was pseudonymised with a different key: use the key it was created with "
            "(--key or ZHENGTAI_KEY_FILE), or ingest into a new database"
        )
