"""What the three doors (the Cog ``Predictor``, the Gradio page, the CLI) share: the models
loaded for serving, one function that serves any request, and an output folder that never
grows (the words for a result are ``wording``'s).

    models = load_models()
    result = serve(cog_inputs.from_cog(inputs), models, out, progress=progress)
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from typing import Callable

import torch

import stylegan2

from ..media import ffmpeg
from .. import memory, weights
from ..requests.budget import check_budget
from ..fields import PRESETS
from ..nets.models import Models
from ..stages.pipeline import animate, latent_video, transfer
from ..nets.tuning import steps_for
from ..stages.results import Animation, Edited, LatentAnimation, Result, Transferred
from ..run import Run
from ..requests.checks import ensure_checked
from ..errors import ServerError
from ..requests.request import Animate, Edit, LatentVideo, Transfer
from ..stages.edit import edit


def load_models(progress: weights.Progress | None = None,
                log: Callable[[str], None] = print) -> Models:
    """What the doors serve, loaded once: synthetic weights when ``MICROMOTION_SYNTHETIC`` is
    set, else the official files (fetched when missing), on the GPU when there is one (with
    the CUDA ops built now, not on the first request), the presets read, and each stage's
    paths verified and timed (``plan``; its table goes to ``log``), ArcFace loaded (LPIPS for
    fidelity faithful on its first use, or now with ``MICROMOTION_PRELOAD=faithful``).
    Weights this server may not read are a ``ServerError`` saying what the operator can do."""
    try:
        return _load_models(progress, log)
    except PermissionError as exc:
        where = Path(exc.filename).parent if exc.filename else weights.weights_dir()
        raise ServerError(f"this server may not read its weights ({exc.strerror.lower()}: "
                          f"{exc.filename or where}); give the user it runs as read access "
                          f"to {where} (and write access, to fetch missing files), or point "
                          f"MICROMOTION_WEIGHTS at a readable copy") from None


def _load_models(progress: weights.Progress | None, log: Callable[[str], None]) -> Models:
    if weights.synthetic_requested():
        models = Models.synthetic()
        presets = [n for n in PRESETS if weights.target(f"direction-{n}").is_file()]
    else:
        weights.ensure(progress=progress)
        # the kernels (and CLIP's cached state dict) beside the weights: where a restarted
        # container finds the weights, it finds them built
        os.environ.setdefault("MICROMOTION_CACHE", str(weights.weights_dir() / ".cache"))
        cuda = torch.cuda.is_available()
        if cuda:
            for op in ("bias_act", "upfirdn2d"):
                stylegan2.ops.plugin.available(op)  # builds (or finds) the kernels, once
        # fetch=True: what loads on first use (fidelity faithful's LPIPS) is fetched then if
        # the image lacks it, never at setup
        models = Models.load(device="cuda" if cuda else None, fetch=not weights.offline())
        models.text_models()  # CLIP and ArcFace now, so a text request does not wait
        presets = PRESETS
    for name in presets:
        models.preset(name)
    models.arcface()  # every photo's result measures its identity: no request waits for it
    if "faithful" in preloaded():
        models.lpips()  # fidelity faithful's loss now, not on its first request
    log(f"how this machine runs each stage:\n{models.plan.table()}")  # warms them up too
    return models


def preloaded() -> set[str]:
    """What the operator asks to load at setup rather than on first use
    (``MICROMOTION_PRELOAD``, comma-separated: ``faithful``)."""
    return {w.strip() for w in os.environ.get("MICROMOTION_PRELOAD", "").split(",") if w.strip()}


def serve(req, models: Models, out: str | os.PathLike, **context) -> Result:
    """The request's use case along the paths its precision (``req.dtype``) resolves to on
    this machine → its result (``.video`` at ``out``, ``.notes``, the first saying what ran
    where). ``context``: the rest of the run's (``run.Run``: ``gif``, ``progress``,
    ``preview``, ``cancel``). Every input is checked before any slow stage; a user's mistake
    raises a ``MicromotionError``; a request over the work budget (``budget``) is refused
    before any slow stage. ``preview`` gets glimpses of the work before the video renders;
    ``cancel`` raises to stop it: ffmpeg's reads look at it while they run, the stages at
    every step."""
    run = Run(out, **context)
    with ffmpeg.cancelled_by(run.cancel):
        req = ensure_checked(req, models.shape)  # once: a door may have checked it already
        run = run.on(models.plan.resolve, req.dtype)
        check_budget(req, models.plan, run.precision, steps_for(models.device),
                     models.device.type)
        try:
            result = _use_case(req, models, run)
        finally:
            memory.release_freed()
    result.notes[:0] = req.notes  # what the door set aside, then what the work chose
    result.details.insert(0, run.precision.note)  # the paths it ran on: for the expert
    return result


@functools.singledispatch
def _use_case(req, models: Models, run: Run) -> Result:
    raise TypeError(f"not a request: {type(req).__name__}")


@_use_case.register
def _(req: Animate, models: Models, run: Run) -> Animation:
    return animate(models, req, run)


@_use_case.register
def _(req: Transfer, models: Models, run: Run) -> Transferred:
    return transfer(models, req, run)


@_use_case.register
def _(req: LatentVideo, models: Models, run: Run) -> LatentAnimation:
    return latent_video(models, req, run)


@_use_case.register
def _(req: Edit, models: Models, run: Run) -> Edited:
    return edit(models, req, run)


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

    def remove_on_sigterm(self, also: Callable[[], None] | None = None) -> None:
        """A SIGTERM (a server stopping its worker) closes this first (and runs ``also``: the
        page's copies in Gradio's folder), then does what it did before (Python's default ends
        the process without running ``atexit``). Only from the main thread, where Python lets
        signals be handled."""
        if threading.current_thread() is not threading.main_thread():
            return
        before = signal.getsignal(signal.SIGTERM)
        if before == signal.SIG_IGN:  # the server means its worker to outlive a SIGTERM
            return

        def handler(signum, frame):
            self.close()
            if also is not None:
                also()
            if callable(before):
                before(signum, frame)
            else:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, handler)
