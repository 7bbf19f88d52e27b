"""What the page takes as a file input: only a file Gradio received for this server (an upload,
kept in its upload folder) or one of the page's own examples — never a path a client names.

A client of the page's API can send any payload as a file: ``{"path": "/any/file"}`` without
Gradio's ``meta``, the same with an ``orig_name`` to hide it, or a bare string. Each resolves
(links followed) to a file that must lie inside one of the page's ``roots``; anything else is
refused in one sentence that is the same whether the named file exists or not.

    path, name = received("image", {"path": "/tmp/gradio/ab12/me.jpg", "orig_name": "me.jpg"},
                          roots)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..errors import ServerPathError


def upload_folder() -> Path:
    """Gradio's folder for this server's uploads (``GRADIO_TEMP_DIR``, else its default)."""
    from gradio.utils import get_upload_folder
    return Path(get_upload_folder()).resolve()


def received(name: str, value: Any, roots: Sequence[str | os.PathLike]
             ) -> tuple[str | None, str | None]:
    """The raw value of file input ``name`` (Gradio's file data, a video's inside ``video``,
    or a bare path) → (its path, the name the user gave it); nothing given → (None, None).
    A path outside ``roots`` is a ``ServerPathError``."""
    if isinstance(value, dict) and isinstance(value.get("video"), dict):
        value = value["video"]
    if isinstance(value, dict):
        path, given = value.get("path"), value.get("orig_name")
    else:
        path, given = value, None
    if path is None or (isinstance(path, str) and not path.strip()):
        return None, None
    if not isinstance(path, str) or not _inside(path, roots):
        raise ServerPathError(f"{name} must be a file uploaded to this page; paths on the "
                              f"server are not read")
    return path, given if isinstance(given, str) and given.strip() else Path(path).name


def _inside(path: str, roots: Sequence[str | os.PathLike]) -> bool:
    """Whether ``path`` is a file under one of ``roots`` once links and ``..`` are resolved."""
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
        return False
    for root in roots:
        root = Path(root).resolve()
        if real != root and real.is_relative_to(root):
            return True
    return False
