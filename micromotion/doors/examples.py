"""Examples shown at once: a door's example requests, made once in the background at start-up
(paused while anyone else is served, so no one waits for them), and kept; a request that asks
exactly what an example asks gets its result without any work.

    examples = Examples(models, [Animate(image="astronaut.jpg"), ...]).start()
    with examples.in_use():                       # a person's request: warming waits
        made = examples.get(req) or serve(req, models, out)
"""
from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Iterator, Sequence

from ..errors import MicromotionError
from ..fields import FIELDS
from ..nets.models import Models
from ..naming import duration
from ..media.preview import Glimpse
from ..stages.results import Result
from ..requests.budget import expected
from ..requests.request import file_name
from .serving import serve

# a file larger than this is no example's: not worth reading to compare
MAX_EXAMPLE_FILE = 32 << 20
MADE_BEFORE = ("this example was made before (the same photo and settings), so it shows at "
               "once")


@dataclass(frozen=True)
class Made:
    """An example's result, and the preview it showed (the video's first, middle and last
    frames), so a door can show both again."""
    result: Result
    glimpse: Glimpse | None


def request_key(req) -> Hashable | None:
    """What ``req`` asks, to compare with another request: its kind and fields, each file by
    its content (not by its path or the name it was given, nor the door that asks); None when
    a file is missing or larger than ``MAX_EXAMPLE_FILE``. Numbers compare by value (5 == 5.0)."""
    parts = [type(req).__name__]
    for f in dataclasses.fields(req):
        if f.name in ("names", "server_files", "checked"):
            continue
        value = getattr(req, f.name)
        if FIELDS.get(f.name) is not None and FIELDS[f.name].type is Path \
                and not _missing(value):
            value = tuple(map(_digest, value)) if isinstance(value, (list, tuple)) else \
                _digest(value)
            if value is None or None in (value if isinstance(value, tuple) else ()):
                return None
        elif isinstance(value, list):
            value = tuple(value)
        parts.append((f.name, value))
    try:
        hash(tuple(parts))
    except TypeError:  # a tensor or an image given from Python: no example is one
        return None
    return tuple(parts)


def _missing(value) -> bool:
    return value is None or (isinstance(value, (str, list, tuple)) and not value)


def _digest(path) -> str | None:
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path) \
            or os.path.getsize(path) > MAX_EXAMPLE_FILE:
        return None
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class Examples:
    """The results of ``requests``, made in a background thread (``start``) while no request
    is ``in_use``, kept in a folder of their own for the life of the process; a person's
    result that answers an example is kept too (``keep``)."""

    def __init__(self, models: Models, requests: Sequence, log: Callable[[str], None] = None):
        self.models, self.requests = models, list(requests)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.folder = Path(tempfile.mkdtemp(prefix="micromotion-examples-"))
        atexit.register(shutil.rmtree, self.folder, True)
        self._keys = {request_key(r) for r in self.requests} - {None}
        self._made: dict[Hashable, Made] = {}
        self._users = 0
        self._idle = threading.Condition()

    def start(self) -> "Examples":
        threading.Thread(target=self._warm, name="examples", daemon=True).start()
        return self

    def get(self, req) -> Made | None:
        """An example's result for ``req`` (the note saying so first), or None."""
        made = self._made.get(request_key(req))
        if made is None:
            return None
        return dataclasses.replace(made, result=dataclasses.replace(
            made.result, notes=[MADE_BEFORE] + made.result.notes))

    def keep(self, req, result: Result, glimpse: Glimpse | None) -> None:
        """Keep a copy of ``result`` (its video in this folder) if ``req`` is an example's."""
        key = request_key(req)
        if key not in self._keys or key in self._made:
            return
        folder = Path(tempfile.mkdtemp(dir=self.folder))
        video = Path(shutil.copy2(result.video, folder / Path(result.video).name))
        self._made[key] = Made(dataclasses.replace(result, video=video), glimpse)

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """While a person's request is served: warming pauses at its next step."""
        with self._idle:
            self._users += 1
        try:
            yield
        finally:
            with self._idle:
                self._users -= 1
                self._idle.notify_all()

    def _work(self) -> str:
        """What making the examples costs here, as the work budget estimates it, in words to
        follow "making the examples" (`` (about 1 min 30 s of work on this machine)``); ""
        where it cannot say."""
        seconds = 0.0
        for req in self.requests:
            try:
                cost = expected(req, self.models)
            except MicromotionError:  # said when its turn comes
                continue
            seconds += cost.seconds if cost else 0.0
        return f" (about {duration(seconds)} of work on this machine)" if seconds else ""

    def _wait_while_in_use(self, *step) -> None:
        with self._idle:
            while self._users:
                self._idle.wait()

    def _warm(self) -> None:
        started = time.monotonic()
        self._wait_while_in_use()  # its estimate, too, waits for the people served
        n = len(self.requests)
        self.log(f"making {n} example{'s' * (n != 1)} in the background{self._work()}, "
                 f"paused whenever someone is served (MICROMOTION_WARM_EXAMPLES=0: none)")
        for k, req in enumerate(self.requests):
            self._wait_while_in_use()
            if request_key(req) in self._made:  # a person asked it first
                continue
            shown: list[Glimpse] = []
            out = Path(tempfile.mkdtemp(dir=self.folder)) / file_name(req)
            try:
                result = serve(req, self.models, out, progress=self._wait_while_in_use,
                               preview=shown.append)
            except MicromotionError as exc:
                self.log(f"example {k + 1} of {len(self.requests)} not made: {exc}")
                continue
            frames = [g for g in shown if g.rendered]
            self._made.setdefault(request_key(req), Made(result, frames[-1] if frames else None))
            self.log(f"example {k + 1} of {len(self.requests)} ready "
                     f"({time.monotonic() - started:.0f} s since start-up)")
        self.log(f"examples ready: {len(self._made)} of {len(self.requests)}")
