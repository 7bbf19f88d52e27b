"""What the three doors (the Cog ``Predictor``, the Gradio page, the CLI) share: one function
that serves any request, an output folder that never grows, and the words that say how a
result was made and what was chosen for the user.

    models = Models.for_serving()
    result = serve(cog_inputs.from_cog(inputs), models, out, progress)
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from . import memory
from .direction import Direction
from .fields import check
from .models import Models, Progress
from .pipeline import (Animation, LatentAnimation, Preview, Transferred, animate,
                       latent_video, transfer_clip, transfer_photos)
from .request import Animate, LatentVideo, Transfer, given_sources

Result = Animation | Transferred | LatentAnimation


def serve(req, models: Models, out: str | os.PathLike, progress: Progress | None = None,
          gif: str | os.PathLike | None = None, preview: Preview | None = None) -> Result:
    """The request's use case along the paths its precision (``req.dtype``) resolves to on
    this machine → its result (``.video``, ``.notes``, the first saying what ran where).
    Every input is checked before any slow stage; a user's mistake raises a
    ``MicromotionError``. ``preview`` gets the first, middle and last frames before the video
    renders."""
    check("dtype", req.dtype)
    precision = models.plan.resolve(req.dtype)
    try:
        result = _use_case(req, models, out, progress, gif, preview, precision)
    finally:
        memory.release_freed()
    result.notes.insert(0, precision.note)
    return result


@functools.singledispatch
def _use_case(req, models, out, progress, gif, preview, precision) -> Result:
    raise TypeError(f"not a request: {type(req).__name__}")


@_use_case.register
def _(req: Animate, models: Models, out, progress, gif, preview, precision) -> Animation:
    return animate(models, req, out, gif, progress, preview, precision)


@_use_case.register
def _(req: Transfer, models: Models, out, progress, gif, preview, precision) -> Transferred:
    use = transfer_clip if req.neutral_image is None else transfer_photos
    return use(models, req, out, gif, progress, preview, precision)


@_use_case.register
def _(req: LatentVideo, models: Models, out, progress, gif, preview,
      precision) -> LatentAnimation:
    return latent_video(models, req, out, gif, progress, preview, precision)


def file_name(req: Animate | Transfer | LatentVideo) -> str:
    """The output's file name: the photo's and the motion's, ``astronaut-smile.mp4`` (a photo
    the door knows only by its role, or none, leaves the motion's alone: ``smile.mp4``)."""
    photo = req.names.get("image") or (str(req.image) if isinstance(req.image, (str, os.PathLike))
                                       else "")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(photo).stem).strip("-")[:40]
    word = _motion_word(req)
    return f"{stem}-{word}.mp4" if stem and not photo.startswith("the ") else f"{word}.mp4"


SOURCE_WORDS = {"text_template": "words", "anchor_video": "clip", "direction_file": "direction",
                "timeline": "timeline"}  # an animation's file name says which source moved it


@functools.singledispatch
def _motion_word(req) -> str:
    raise TypeError(f"not a request: {type(req).__name__}")


@_motion_word.register
def _(req: Animate) -> str:
    given = given_sources(req)
    return SOURCE_WORDS[given[-1]] if given else req.micromotion


@_motion_word.register
def _(req: Transfer) -> str:
    return "transfer"


@_motion_word.register
def _(req: LatentVideo) -> str:
    return req.mode


class Outputs:
    """One private temp folder per process; each request's files go in a fresh subfolder and
    the previous request's subfolder is removed then (the door has finished sending it by the
    time the next request starts), so at most one result is ever kept on disk. On exit — a
    SIGTERM included, once ``remove_on_sigterm`` is called — the folder goes, and with it the
    files the current request received (``request(inputs=...)``): no user's file is left."""

    def __init__(self, prefix: str = "micromotion-"):
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self._lock = threading.Lock()
        self._last: Path | None = None
        self._inputs: list[Path] = []
        atexit.register(self.close)

    def new(self, filename: str) -> Path:
        with self._lock:
            self.discard_last()
            self._last = Path(tempfile.mkdtemp(dir=self.root))
            return self._last / filename

    @contextlib.contextmanager
    def request(self, filename: str, inputs: list[str | os.PathLike] = ()):
        """A fresh output path for one request; if the request fails, its folder goes."""
        out = self.new(filename)
        self._inputs = [Path(p) for p in inputs]
        try:
            yield out
        except BaseException:
            self.discard_last()
            raise
        finally:
            self._inputs = []

    def discard_last(self) -> None:
        if self._last is not None:
            shutil.rmtree(self._last, ignore_errors=True)
            self._last = None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        for path in self._inputs:
            path.unlink(missing_ok=True)

    def remove_on_sigterm(self) -> None:
        """A SIGTERM (a server stopping its worker) closes this first, then does what it did
        before (Python's default ends the process without running ``atexit``). Only from the
        main thread, where Python lets signals be handled."""
        if threading.current_thread() is not threading.main_thread():
            return
        before = signal.getsignal(signal.SIGTERM)
        if before == signal.SIG_IGN:  # the server means its worker to outlive a SIGTERM
            return

        def handler(signum, frame):
            self.close()
            if callable(before):
                before(signum, frame)
            else:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, handler)


def describe(result: Result) -> str:
    """How a result was made, in words, for the doors."""
    if isinstance(result, Animation):
        return describe_direction(result.direction)
    m = result.meta
    if isinstance(result, Transferred):
        return (f"the motion of {m['driver']}, {m['frames']} frames at {m['fps']:g} fps, moves "
                f"W+ layers {_ranges(m['layers'])} (they hold "
                f"{sum(m['energy'][i] for i in m['layers']):.0%} of it; rank {m['rank']})")
    how = {"walk": "a walk", "coarse": "coarse style mixing", "fine": "fine style mixing",
           "circle": "an equal-step circle"}[m["kind"]]
    keys = ([f"seeds {_few(m['seeds'])}"] if m["seeds"] else []) + (
        [f"{m['photos']} photo(s)"] if m["photos"] else [])
    return f"{how} through {' and '.join(keys) or 'the held face'}, {m['frames']} frames" + (
        f"; steps within {m['step_mse_spread']:.2f}× of each other" if "step_mse_spread" in m
        else "")


# what each published motion does, in a person's words
DOES = {"smile": "smiles", "angry": "looks angry", "aging": "ages", "eyesClose": "closes its eyes",
        "headsTurn": "turns its head"}
# StyleGAN's W+ layers by what they hold (FFHQ's 18: 4² to 1024²)
LAYER_GROUPS = (("coarse", range(0, 4), "pose and face shape"),
                ("middle", range(4, 8), "expression and features"),
                ("fine", range(8, 32), "colour and texture"))


def plainly(result: Result) -> str:
    """What the video shows, in a person's words (``describe`` has the details), e.g. "The
    face smiles; the motion is mostly in the middle layers (expression and features)"."""
    if isinstance(result, Animation):
        return f"The face {_does(result.direction.meta)}; {_where(result.direction.vector)}."
    m = result.meta
    if isinstance(result, Transferred):
        return (f"The face performs the motion of {m['driver']} at its timing "
                f"({m['frames']} frames at {m['fps']:g} fps).")
    how = describe(result)
    return how[0].upper() + how[1:] + "."


def _does(m: dict) -> str:
    if m.get("source") == "timeline":
        return ", then ".join(_does(c) for c in m["cues"])
    if "preset" in m:
        return DOES[m["preset"]]
    return {"text": f"moves as the words say ({m.get('template', '')!r})",
            "video": f"moves as the face in {m.get('file', 'the clip')} does",
            "tensor": "moves along the given direction"}.get(
        m.get("source"), f"moves along the direction in {m.get('file', 'the file')}")


def _where(vector) -> str:
    """Which group of W+ layers holds most of a direction ``[L, D]``'s length."""
    energy = vector.float().pow(2).sum(-1)
    shares = [(float(energy[rows.start:rows.stop].sum()), name, holds)
              for name, rows, holds in LAYER_GROUPS]
    share, name, holds = max(shares)
    return f"the motion is mostly in the {name} layers ({holds})" if share > 0 else \
        "the direction is zero: nothing moves"


def describe_direction(d: Direction) -> str:
    m = d.meta
    if m.get("source") == "timeline":
        return "a timeline of " + "; ".join(
            f"{describe_direction(Direction(d.vector, c))} at strength {c['strength']:g} "
            f"from frame {c['start']}" for c in m["cues"])
    if "preset" in m:
        return f"the published {m['preset']} direction"
    what = {"d_latent": m.get("file", "a direction file"),
            "text": f"words: {m.get('template', '')!r}",
            "video": f"the clip {m.get('file', '')}",
            "tensor": "a direction given as a tensor"}.get(m.get("source"), "a direction file")
    if "anchors" in m:
        explained = m["explained_energy"]  # per W+ layer
        what += (f", from {m['anchors']} anchors at rank {m['rank']} (the low-rank part holds "
                 f"{sum(explained) / len(explained):.0%} of their motion)")
    return what


def anchor_captions(d: Direction) -> list[str]:
    """One caption per anchor image of an animation, in order: the degree of a text anchor,
    the time of a clip's frame (a timeline's motions in turn)."""
    metas = d.meta["cues"] if d.meta.get("source") == "timeline" else [d.meta]
    out = []
    for m in metas:
        if m.get("source") == "text":
            out += [f"{deg}" for deg in m["degrees"]]
        elif m.get("source") == "video":
            out += [f"{t:.2f} s" for t in m["times"]]
    return out


def _few(items: list, most: int = 8) -> str:
    """A list in words, kept short for a log line: "1, 2, 3, … (300 in all)"."""
    shown = ", ".join(map(str, items[:most]))
    return shown if len(items) <= most else f"{shown}, … ({len(items)} in all)"


def _ranges(layers: list[int]) -> str:
    """[0, 1, 2, 5] → "0–2, 5"."""
    out, start = [], None
    for i, k in enumerate(layers):
        start = k if start is None else start
        if i + 1 == len(layers) or layers[i + 1] != k + 1:
            out.append(str(k) if start == k else f"{start}–{k}")
            start = None
    return ", ".join(out)
