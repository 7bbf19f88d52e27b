"""Checking a weights file once: its size and sha256 against the manifest's entry, the
digest then recorded beside the file (``<file>.verified.json``: sha256, size, modification
time), so a file verified at fetch time — before ``cog build`` copies it into an image — is
never hashed again on a cold boot; a record whose file changed since is stale, and the file is
hashed anew.

    problem = verify(path, entry)     # None, or what differs
    recorded(path)                    # the sha256 of a current record, else None
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CHUNK = 1 << 20


def verify(path: Path, entry: dict) -> str | None:
    """None if ``path`` has the manifest's size and sha256 (where known), else what differs.
    The sha256 is read from the file's verification record where that is current (``record``:
    same size and modification time), so a file verified once — at fetch time, before
    ``cog build`` — is never hashed again on a cold boot; else it is hashed and recorded."""
    stat = path.stat()
    if entry.get("size") and stat.st_size != entry["size"]:
        return f"it is {stat.st_size:,} bytes, not {entry['size']:,}"
    want = entry.get("sha256") or entry.get("sha256_prefix")  # torchvision names a prefix
    if want:
        digest = recorded(path)
        if digest is None or not digest.startswith(want):
            digest = sha256_of(path)
            if digest.startswith(want):
                _record(path, digest)
        if not digest.startswith(want):
            return f"its sha256 is {digest}, not {want}{'' if entry.get('sha256') else '…'}"
    return None


def move_record(part: Path, dest: Path) -> None:
    """The record written while ``part`` was verified, now ``dest``'s (a rename keeps the
    modification time, so it stays current)."""
    if record(part).exists():
        os.replace(record(part), record(dest))


def record(path: str | os.PathLike) -> Path:
    """Where the verification record of the weights file at ``path`` is kept: beside it."""
    return Path(str(path) + ".verified.json")


def recorded(path: Path) -> str | None:
    """The sha256 recorded for ``path`` when the record is current: the file has the size and
    modification time it had when it was hashed (None where missing, stale or unreadable)."""
    try:
        data = json.loads(record(path).read_text())
        stat = path.stat()
        current = data["size"] == stat.st_size and data["mtime_ns"] == stat.st_mtime_ns
        return str(data["sha256"]) if current else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record(path: Path, digest: str) -> None:
    """Note ``path``'s verified sha256, size and time beside it (a read-only folder — the
    user's own copy — keeps none: it is hashed again next time)."""
    stat = path.stat()
    try:
        record(path).write_text(json.dumps({"sha256": digest, "size": stat.st_size,
                                            "mtime_ns": stat.st_mtime_ns}))
    except OSError:
        pass


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()
