"""Replicate's door: the flat inputs Cog hands ``predict()`` (``COG_INPUTS``, in the order of
predict.py's signature) → one of the three requests, with every file input a file Cog itself
received (never a path on the server).

    req = from_cog({"image": Path("/tmp/tmpab12photo.jpg"), "micromotion": "smile"})
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from ..errors import OptionError, ServerPathError
from ..fields import FIELDS, MAX_FILE_MB, check
from ..naming import not_used
from ..requests.request import Animate, Edit, LatentVideo, Transfer

COG_INPUTS = tuple(f.name for f in FIELDS.values() if "cog" in f.doors)


def from_cog(inputs: dict[str, Any]) -> Animate | Transfer | LatentVideo | Edit:
    """Replicate's flat inputs (``COG_INPUTS``; missing ones take their defaults) → the request
    they ask for: a latent video when ``mode`` is not ``animate``, a video edit when ``video``
    is given, a motion transfer when a ``driving_video`` is (``scale`` 5 is the driver's own
    amplitude), else an animation.
    Cog's temp files are named by their role ("the photo"), never by their temp name; inputs
    set that the request does not read are named in its notes."""
    v = {k: inputs.get(k, FIELDS[k].default) for k in COG_INPUTS}
    files = [k for k in COG_INPUTS if FIELDS[k].type is Path and v[k] is not None]
    v.update({k: received(v[k], k) for k in files}, names={k: FIELDS[k].role for k in files},
             server_files=False)
    mode = check("mode", v["mode"])
    if mode != "animate":
        kind, what = LatentVideo, f"a latent video ({mode})"
    elif v["video"] is not None:
        kind, what = Edit, "a video edit"
    elif v["driving_video"] is not None:
        kind, what = Transfer, "a motion transfer"  # its driver notes what it does not read
    else:
        kind, what = Animate, "an animation"
    unread = _unread(inputs, kind, mode)
    notes = [not_used(unread, f"{what} does not read {'it' if len(unread) == 1 else 'them'}")
             ] if unread else []
    return kind(**_subset(kind, v), notes=notes)


def _unread(inputs: dict[str, Any], kind: type, mode: str) -> list[str]:
    """The inputs set (not at their defaults) that a request ``kind`` does not read: not its
    fields, or a latent video's setting for other kinds (what a request reads but its case
    does not — a clip's frames — its check notes)."""
    reads = {f.name for f in dataclasses.fields(kind) if f.init}
    return [k for k in COG_INPUTS if k in inputs and inputs[k] != FIELDS[k].default and (
        k not in reads or kind is LatentVideo and FIELDS[k].kinds and mode not in FIELDS[k].kinds)]


def received(value: Any, name: str) -> str:
    """The path of the file Cog received for input ``name``. Cog (0.16 and coglet alike)
    writes an upload, a URL's or a data URI's bytes to ``tmp…<file name>`` in this process's
    temp folder before ``predict`` runs; a string that names any other file is a path on the
    server, refused in the same words whether or not it exists, so the API neither reads nor
    tells of the server's files."""
    path = Path(str(value))
    temp = Path(tempfile.gettempdir()).resolve()
    if not (path.is_absolute() and path.name.startswith("tmp") and ".." not in path.parts
            and path.parent.resolve() == temp and not path.is_symlink() and path.is_file()):
        raise ServerPathError(f"{name} must be a file sent with the request (an upload, a URL "
                              f"or a data: URI); paths on the server are not read")
    size = path.stat().st_size
    if size > MAX_FILE_MB * 1_000_000:
        raise OptionError(f"{FIELDS[name].role} is {size / 1e6:,.0f} MB; files of at most "
                          f"{MAX_FILE_MB} MB are taken: trim or compress it")
    return str(path)


def _subset(kind: type, values: dict) -> dict:
    """The entries of ``values`` that are fields of the request ``kind``."""
    return {f.name: values[f.name] for f in dataclasses.fields(kind)
            if f.name in values and f.init}
