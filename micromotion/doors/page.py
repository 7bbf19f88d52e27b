"""The page's side of the Gradio door, apart from its layout (``app.py``) and its tabs'
requests (``page_requests``): the models it serves from, its endpoints (raw widget values in, a
file only from its own uploads), the work in a thread with a clock that says how long is left,
and every error as the product's own sentence.

    page = Page(models)
    for kind, value in page.stream(req): ...   # ("status", text), ("preview", glimpse), ("done", result)
"""
from __future__ import annotations

import inspect
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr

import stylegan2

from . import page_files, serving
from ..errors import MicromotionError
from .examples import Examples
from ..fields import FIELDS
from ..nets.models import Models
from ..media.preview import Glimpse
from ..naming import duration
from ..requests.budget import expected, over_budget, work_budget
from ..requests.request import file_name

# the preview's label for each glimpse of the work (``micromotion.media.preview.SHOWS``)
GLIMPSES = {"face": "Preview: the face found in the photo",
            "clip": "Preview: the face in the clip (its first, middle and last frames)",
            "driver": "Preview: the driver's face (the clip's first, middle and last frames)",
            "anchors": "Preview: the text anchors as they form, one per degree",
            "look": "Preview: the edit where the motion is strongest (the rest follow)",
            "frames": "Preview: first, middle and last frames",
            "faces": "Preview: each face at the middle of the video"}


STAGES = {"align": "Finding the face", "invert": "Inverting the photo",
          "clip faces": "Finding the face in the clip's frames",
          "clip inversion": "Inverting the clip's frames",
          "anchors": "Optimising the text anchors", "direction": "Finding the direction",
          "equalise": "Spacing the circle's steps",
          "tuning models": "Loading the tuning's models (once)",
          "tune": "Tuning the generator to the photo",
          "render": "Rendering the video",
          "follow the face": "Following the face through the video",
          "write": "Writing the video's other frames",
          "invert the frames": "Inverting the video's frames"}
# the latent tab's settings that only some kinds read: shown for those kinds alone


class Page:
    """The models and output folder the page serves from."""

    def __init__(self, models: Models, tuning_seconds: float | None = None):
        self.models, self.outputs = models, serving.Outputs()
        self.example_requests: list = []  # the examples' requests, as the tabs build them
        self.examples = Examples(models, [])
        self.tuning_seconds = tuning_seconds  # fidelity faithful's cost here, if measured

    def fidelity(self, use: str) -> dict:
        """The fidelity widget's look on the tab for ``use``: how long faithful takes on this
        machine, said beside the choice before anyone makes it."""
        took = "" if self.tuning_seconds is None else \
            f" Here faithful adds about {duration(self.tuning_seconds)}."
        return dict(info=FIELDS["fidelity"].help_for(use) + took)

    def expected(self, req) -> str:
        """What ``req`` would cost here, for the line beside its button: made already (an
        example), or about how long and what most of it is (``budget.estimate``, from the
        plan's timings of this machine), or over the work budget with what to lower; "" on a
        GPU, where the plan's small probes overstate the work. A request with a mistake
        raises its ``MicromotionError`` (Generate says it)."""
        if self.examples.get(req) is not None:
            return "Made already: it shows at once."
        cost = expected(req, self.models)
        if cost is None:
            return ""
        most = work_budget()
        if most and cost.seconds > most:
            said = over_budget(cost, most)
            return f"{said[0].upper()}{said[1:]}."
        return (f"About {duration(cost.seconds)} on this machine, most of it "
                f"{max(cost.parts, key=cost.parts.get)}.")

    def warm(self, start: bool = True) -> None:
        """Make the examples' results in the background (``start``; paused while anyone is
        served), so that clicking one shows its video at once."""
        self.examples = Examples(self.models, self.example_requests)
        if start:
            self.examples.start()

    def stream(self, req) -> Iterator[tuple[str, object]]:
        """Serve ``req`` in a worker thread → ("status", text), ("preview", frames) as they
        come, then ("done", result); a user's error → ``gr.Error`` (kept until dismissed).
        Closing the stream (Stop: Gradio cancels the event) stops the work at its next step."""
        made = self.examples.get(req)
        if made is not None:
            if made.glimpse is not None:
                yield "preview", made.glimpse
            yield "done", made.result
            return
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        shown: list[Glimpse] = []  # the video's first, middle and last frames, to keep

        def cancel():
            if stop.is_set():
                raise Stopped

        def progress(*step):
            cancel()
            events.put(("progress", step))

        def preview(g: Glimpse):
            shown[:] = [g] if g.rendered else shown
            events.put(("preview", g))

        def work():
            try:
                with self.examples.in_use(), self.outputs.request(file_name(req)) as out:
                    result = serving.serve(req, self.models, out, progress=progress, preview=preview,
                                           cancel=cancel)
                    self.examples.keep(req, result, shown[0] if shown else None)
                    events.put(("done", result))
            except Stopped:
                print("stopped by the user", file=sys.stderr, flush=True)
            except BaseException as exc:  # handed to the page's thread below
                events.put(("error", exc))

        threading.Thread(target=work, daemon=True).start()
        clock = Clock()
        try:
            while True:
                kind, value = events.get()
                if kind == "progress":
                    if clock.due(*value):
                        yield "status", clock.text(*value)
                elif kind == "error":
                    raise page_error(value)
                elif kind == "preview" and not value.final and not clock.glimpse_due():
                    continue  # anchors mid-optimisation: a fresh look once a second is enough
                else:
                    yield kind, value
                    if kind == "done":
                        return
        finally:
            stop.set()


class Stopped(Exception):
    """The page's Stop: raised in the work's progress callback to end it between steps."""


class Clock:
    """Progress in words: the stage, how far, and (for long stages) about how long is left;
    and how often a changing preview is sent."""

    def __init__(self):
        self.started: dict[str, float] = {}
        self.shown = self.glimpsed = 0.0

    def due(self, stage: str, done: int, total: int) -> bool:
        """Whether to show this step (at most four times a second, and every stage's end)."""
        now = time.monotonic()
        self.started.setdefault(stage, now)
        if done >= total or now - self.shown > 0.25:
            self.shown = now
            return True
        return False

    def glimpse_due(self) -> bool:
        """Whether a changing preview is worth sending again (at most once a second)."""
        now = time.monotonic()
        if now - self.glimpsed < 1.0:
            return False
        self.glimpsed = now
        return True

    def text(self, stage: str, done: int, total: int) -> str:
        name = STAGES.get(stage, stage)
        if total <= 1:
            return f"{name}…"
        elapsed = time.monotonic() - self.started[stage]
        left = elapsed / done * (total - done) if done else None
        eta = f" — about {duration(left)} left" if left and elapsed > 2 else ""
        return f"{name}: {done} of {total}{eta}"


def page_error(exc: BaseException) -> gr.Error:
    """A user's error → its own sentence; a bug → a short note (the trace in the log). Both
    stay on the page until dismissed."""
    if isinstance(exc, (MicromotionError, stylegan2.CheckpointError)):
        return user_error(str(exc), type(exc).__name__)
    traceback.print_exception(exc)
    return gr.Error(f"Something went wrong on our side ({type(exc).__name__}: {exc}).",
                    duration=None)


def user_error(sentence: str, kind: str = "the page") -> gr.Error:
    """A user's mistake: its sentence on the page until dismissed, one line in the log
    (Gradio would print a traceback)."""
    print(f"user error ({kind}): {sentence}", file=sys.stderr, flush=True)
    return gr.Error(sentence, duration=None, title="That did not work", print_exception=False)


def endpoint(names: list[str], handle: Callable[[dict, dict], Iterator],
             examples: Path) -> Callable:
    """A click handler taking the raw values of the widgets ``names`` in that order (its API
    parameters carry the fields' names) → ``handle(values, file names)``. Uploads arrive
    unprocessed, so a file that is not what it should be reaches the product's own checks
    (and messages name it by the name it was uploaded with); a file input is taken only from
    Gradio's uploads or the page's ``examples`` folder (``page_files``), never a path a client
    names."""
    def fn(*args):
        try:
            values, names_of = received_values(names, args, examples)
            yield from handle(values, names_of)
        except MicromotionError as exc:  # the tab's own checks, a path that was not sent
            raise user_error(str(exc), type(exc).__name__) from None

    # every parameter optional for API clients: a widget's value is its default, an empty
    # one's None (a missing photo then gets the page's own sentence, as in the form)
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
         for n in names])
    return fn


def received_values(names: list[str], args: tuple, examples: Path) -> tuple[dict, dict]:
    """The raw values of the widgets ``names`` → (values by field, the names files were
    uploaded with): a file only from Gradio's uploads or ``examples`` (``page_files``: a
    ``ServerPathError`` otherwise), a numeric choice as its number."""
    values, names_of = {}, {}
    for name, value in zip(names, args):
        if name in FIELDS and FIELDS[name].type is Path:
            value, names_of[name] = page_files.received(
                name, value, (page_files.upload_folder(), examples))
        values[name] = _number(name, value)
    return values, {k: v for k, v in names_of.items() if v}


def _number(name: str, value):
    """A numeric choice as the API describes it (Gradio types a dropdown's choices as
    strings: output_size "512") → the number; anything else as it came."""
    f = FIELDS.get(name)
    if f is not None and f.type is int and f.choices and isinstance(value, str) \
            and value.strip().isdigit() and len(value) <= 12:
        return int(value)
    return value
