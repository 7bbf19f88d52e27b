"""Progress shown on stderr, for the command lines (``python -m micromotion``, ``python -m
micromotion.weights``): on a terminal one bar per stage, each closed when the next stage
starts, so the time it shows is its own; anywhere else (a log, a pipe) plain lines — a stage's
first step, a line at most every ``EVERY`` seconds, and its last with how long it took — and
never a terminal's escape codes.

    with shown() as progress:
        serve(req, models, out, progress=progress)   # progress(stage, done, total)
"""
from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, Iterator

from .run import Progress

EVERY = 5.0  # s between a stage's plain lines


@contextlib.contextmanager
def shown(unit: str = "step", stream: IO[str] | None = None) -> Iterator[Progress]:
    """A ``progress(stage, done, total)`` that shows on ``stream`` (stderr): bars on a
    terminal, plain lines elsewhere (``unit="B"``: bytes, as a download counts them)."""
    stream = stream or sys.stderr
    show = _Bars(unit, stream) if stream.isatty() else _Lines(unit, stream)
    try:
        yield show.progress
    finally:
        show.close()


class _Bars:
    """One tqdm bar, the current stage's."""

    def __init__(self, unit: str, stream: IO[str]):
        self.unit, self.stream, self.bar, self.stage = unit, stream, None, None

    def progress(self, stage: str, done: int, total: int | None) -> None:
        from tqdm import tqdm
        if stage != self.stage or self.bar.total != total:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit=self.unit, file=self.stream,
                            unit_scale=self.unit == "B", initial=done)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Lines:
    """Plain lines: ``stage: done/total``, and the time a stage took when it ends."""

    def __init__(self, unit: str, stream: IO[str]):
        self.unit, self.stream = unit, stream
        self.stage, self.started, self.said = None, 0.0, 0.0
        self.last = time.monotonic()  # the last call: where the next stage's time starts

    def progress(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if stage != self.stage:  # its first step began when the last stage's last step ended
            self.stage, self.started, self.said = stage, self.last, 0.0
        self.last = now
        last = total is not None and done >= total
        if last or now - self.said >= EVERY:
            took = f" ({now - self.started:.1f} s)" if last else ""
            print(f"{stage}: {self._amount(done)}/{self._amount(total)}{took}",
                  file=self.stream, flush=True)
            self.said = now

    def _amount(self, n: int | None) -> str:
        if n is None:
            return "?"
        return f"{n / 2 ** 20:.0f} MB" if self.unit == "B" else str(n)

    def close(self) -> None:
        pass
