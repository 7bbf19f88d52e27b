"""One file over HTTP into ``<file>.part``, the way Replicate's ``pget`` fetches weights: a
large file in pieces of ``PIECE`` bytes, ``PARALLEL`` of them at once (HTTP Range), each
written at its own offset, the finished ones noted in ``<file>.part.pieces`` so a broken
download resumes with the pieces it lacks; a small file, or a server that ignores Range, in one
stream that resumes from the part's length.

    fetch("https://example.org/big.pt", Path("weights/big.pt.part"), size, progress)
"""
from __future__ import annotations

import json
import os
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

CHUNK = 1 << 20  # bytes read at a time
PIECE = 16 << 20  # bytes a ranged request asks for
PARALLEL = 4  # pieces in flight
TIMEOUT_S = 30
Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def fetch(url: str, part: Path, size: int | None, progress: Progress | None = None) -> None:
    """``url`` into ``part`` (``size``: the bytes expected, where the manifest knows them)."""
    served = None if size is not None and size < 2 * PIECE else _length(url)
    if served is not None and (size or served) >= 2 * PIECE:
        _pieces(url, part, size or served, progress)
    else:
        _stream(url, part, size, progress)


def _length(url: str) -> int | None:
    """The file's length as the server gives it for a one-byte range (None: no ranges)."""
    request = urllib.request.Request(url, headers={"Range": "bytes=0-0"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if response.status == 206 and total.isdigit() else None


def _pieces(url: str, part: Path, total: int, progress: Progress | None) -> None:
    """``PARALLEL`` ranged requests at a time, each piece written where it belongs."""
    noted = part.with_name(part.name + ".pieces")
    done = _noted(noted, total)
    if not done and part.exists():
        part.unlink()  # a part from a single stream: its bytes are not placed by piece
    with open(part, "ab") as f:
        f.truncate(total)
    lock = threading.Lock()
    have = [sum(min(PIECE, total - k * PIECE) for k in done)]
    count = -(-total // PIECE)

    def piece(k: int) -> None:
        start, end = k * PIECE, min(total, (k + 1) * PIECE) - 1
        request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{end}"})
        fd = os.open(part, os.O_WRONLY)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                if response.status != 206 or not response.headers.get(
                        "Content-Range", "").startswith(f"bytes {start}-"):
                    raise OSError(f"the server did not send bytes {start}-{end}")
                at = start
                while at <= end and (block := response.read(min(CHUNK, end + 1 - at))):
                    os.pwrite(fd, block, at)
                    at += len(block)
                    with lock:
                        have[0] += len(block)
                        if progress:
                            progress(have[0], total)
                if at <= end:
                    raise OSError(f"the connection closed at byte {at} of piece {k}")
        finally:
            os.close(fd)
        with lock:
            done.add(k)
            noted.write_text(json.dumps({"total": total, "done": sorted(done)}))

    with ThreadPoolExecutor(PARALLEL) as pool:
        for result in [pool.submit(piece, k) for k in range(count) if k not in done]:
            result.result()  # the first failure is raised; the finished pieces stay noted
    noted.unlink(missing_ok=True)


def _noted(noted: Path, total: int) -> set[int]:
    """The pieces a broken download finished (none where the note is for another length)."""
    try:
        data = json.loads(noted.read_text())
        return set(data["done"]) if data["total"] == total else set()
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _stream(url: str, part: Path, size: int | None, progress: Progress | None) -> None:
    """One request, continuing from the part's current length (HTTP Range)."""
    have = part.stat().st_size if part.exists() else 0
    if size and have >= size:
        return
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        if have and response.status != 206:  # the server ignored the range: start over
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else size
        with open(part, "ab" if have else "wb") as f:
            done = have
            while block := response.read(CHUNK):
                f.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
