"""One run's context, passed whole to every use case and the steps they share: where the
video goes, who watches the work, the paths it runs on, and how it is stopped.

    run = Run("smile.mp4", progress=lambda stage, done, total: print(stage, done, total))
    animate(models, Animate("photo.jpg", "smile"), run)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .precision import FP32, Precision

Progress = Callable[[str, int, int], None]  # progress(stage, done, total)


@dataclass
class Run:
    """``out``: the mp4 to write, where the run writes one (and ``gif``, a GIF of it too);
    ``progress(stage, done, total)`` hears each step, ``preview(glimpse)`` sees the work
    before the video;
    ``precision``: the paths the request's ``dtype`` resolved to on this machine (None: the
    use case resolves it, ``on``); ``cancel()`` raises to stop the work, asked at every step."""
    out: Path | None = None
    gif: Path | None = None
    progress: Progress | None = None
    preview: Callable[[Any], None] | None = None  # preview(glimpse: media.preview.Glimpse)
    precision: Precision | None = None
    cancel: Callable[[], None] | None = None

    def __post_init__(self):
        self.out = None if self.out is None else Path(self.out)
        self.gif = None if self.gif is None else Path(self.gif)

    def report(self, stage: str, done: int, total: int) -> None:
        """One step of ``stage`` done: ``cancel`` asked first (Stop ends the work here)."""
        if self.cancel is not None:
            self.cancel()
        if self.progress is not None:
            self.progress(stage, done, total)

    def steps(self, stage: str) -> Callable[[int, int], None]:
        """``report`` for one stage, as the algorithms take it: ``steps(done, total)``."""
        return lambda done, total: self.report(stage, done, total)

    def on(self, resolve: Callable[[str], Precision], dtype: str) -> "Run":
        """This run with its precision resolved (``plan.resolve(dtype)``) where not yet."""
        return self if self.precision is not None else \
            dataclasses.replace(self, precision=resolve(dtype))


QUIET = Run(precision=FP32)  # a step called on its own: no one watching, the reference paths

