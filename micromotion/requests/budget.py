"""The work one request may cost, estimated before any slow stage and bounded (``WORK_BUDGET``).

Each limit of the request table bounds one setting; together they still allow a request that
holds the only worker for an hour and more (a 4000² photo, 300 frames at 1024 px, fidelity
faithful, side by side, 16 text cues). The estimate multiplies what the request asks — frames
and their pixels, photos and clip frames to invert, text-anchor steps, tuning steps — by what
each unit costs on *this* machine, as the plan measured it at start-up (``plan.Plan``: a 128 px
frame, an encoder pass, a 32 px anchor gradient), so the bound means the same seconds on a
2-core CPU, a big server and a GPU. A request over it is refused with the settings to lower.

    cost = estimate(req, models.plan, precision, 40)  # None where the plan is untimed
    check_budget(req, models.plan, precision, 40)    # BudgetError over ``work_budget()``
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field


from ..errors import BudgetError, MicromotionError
from ..fields import WORK_BUDGET
from ..media.align import crop_side
from ..media.faces import SMALLEST, face_side, find, pick
from ..latents.interpolate import frame_count
from ..motions import distinct, request_motions
from ..motions.drivers import driver_of
from ..naming import display_name, duration, missing
from ..latents.span import edit_weights, moved_frames
from ..media.paste import STRETCH, render_size, video_size
from ..media.stream import Footage, footage, frames
from ..media.track import choose, first_faces
from ..nets.encoders.warm import WARM_BATCH, WARM_ITERATIONS
from ..nets.tuning import steps_for
from ..precision import Precision
from .checks import ensure_checked
from .request import Animate, Edit, Transfer

ITERATIONS = 5  # ReStyle's refinements of one inversion: an encoder pass and a 256 px decode each
ENCODE_PER_MPX = 0.06  # s to paste and encode a megapixel of output video (libx264; 0.035
# measured on a 2-core Xeon, AVX-512: doubled for an AVX2 CPU and the paste)
# the text anchors' and the tuning's steps in 32 px anchor gradients (full-size synthetic
# weights): on a 2-core Xeon a gradient 7 ms, one degree's step at a 256 px loss 0.11 s (four
# degrees a batch), a tuning step at 256 px 4.3 s; on a 2-core AMD EPYC (Zen 4) the same 7 ms
# gradient but 0.26 s a degree's step (CLIP and ArcFace, which the probe leaves out, cost more
# there): the larger is kept, so the page never promises less than a CPU takes
ANCHOR_STEP = 36  # at a 256 px loss; in proportion to the loss size
FIXED_SHARE = 2 / 3  # of a 128 px frame's time, what every size costs alike (its layers up
# to 128 px, the mapping, the modulation): fitted to 128–1024 px frames on a 2-core AMD EPYC,
# 0.71 in bf16 (Zen 4) and 0.62 in fp32 (told AVX2): a 1024 px frame 19–25 times a 128 px one
TUNE_STEP = 600


@dataclass(frozen=True)
class Rates:
    """Seconds a unit of work takes here, from the plan's timings."""
    frame128: float  # render one 128 px frame
    encoder: float  # one encoder pass
    grad32: float  # one 32 px anchor gradient (render and back)

    def frame(self, size: int) -> float:
        """One frame at ``size`` px: a fixed part (``FIXED_SHARE``), the rest growing with the
        pixels (within 6 % of 256, 512 and 1024 px frames measured)."""
        return self.frame128 * (FIXED_SHARE + (1 - FIXED_SHARE) * max(1.0, (size / 128) ** 2))

    def anchor_step(self, loss_res: int) -> float:
        """One degree's text-anchor step at a ``loss_res`` px loss."""
        return ANCHOR_STEP * self.grad32 * loss_res / 256

    @property
    def inversion(self) -> float:
        return ITERATIONS * (self.encoder + self.frame(256))

    def in_order(self, frames: int) -> float:
        """A clip's ``frames`` inverted warm, in time order (``warm.invert_in_order``): the
        first batch from the average face, each later frame from a neighbour's W+."""
        cold = min(frames, WARM_BATCH["cpu"])
        return (cold + (frames - cold) * WARM_ITERATIONS / ITERATIONS) * self.inversion


FEWER_FRAMES = "use fewer frames or a smaller output_size"
TRACK_PER_MPX = 0.03  # s to find a face near its last place in a frame's megapixel, and crop it


@dataclass
class Cost:
    """Estimated seconds by what the request asks (``parts``: words → seconds), and for each
    part the settings that lower it (``lower``)."""
    parts: dict[str, float] = field(default_factory=dict)
    lower: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.parts.values())

    def add(self, what: str, seconds: float, lower: str = FEWER_FRAMES) -> None:
        if seconds > 0:
            self.parts[what] = self.parts.get(what, 0.0) + seconds
            self.lower[what] = lower


def work_budget(device: str = "cpu") -> float:
    """The most seconds of work one request may cost here: ``MICROMOTION_WORK_BUDGET`` where
    the operator set it (0: no bound), else ``WORK_BUDGET`` on a CPU and no bound on a GPU,
    where the plan's small probes are bound by latency and would overstate the work (the
    constants above were measured on CPUs only)."""
    value = os.environ.get("MICROMOTION_WORK_BUDGET", "").strip()
    try:
        return float(value) if value else (WORK_BUDGET if device == "cpu" else 0.0)
    except ValueError:
        return WORK_BUDGET


def rates(plan, precision: Precision) -> Rates | None:
    """The unit costs of the paths ``precision`` picked, or None where the plan timed none."""
    seconds = [plan.seconds(stage, precision) for stage in ("render", "invert", "anchors")]
    return None if None in seconds else Rates(*seconds)


def estimate(req, plan, precision: Precision, tuning_steps: int,
             sizes: list[int] | None = None) -> Cost | None:
    """The work ``req`` (checked) asks, in seconds on this machine; None where untimed. An
    edit's ``sizes``: the size each face it moves renders at, once its faces are followed
    (else they are judged from its first moving frame)."""
    unit = rates(plan, precision)
    if unit is None:
        return None
    cost = Cost()
    size = req.output_size
    if isinstance(req, Edit):
        return _edit(req, unit, cost, tuning_steps, sizes)
    if isinstance(req, (Animate, Transfer)):
        return _photo(req, unit, cost, tuning_steps)
    frames, photos = frame_count(req), len(req.photos) + (not missing(req.image))
    cost.add("inverting the photos", photos * unit.inversion)
    cost.add(f"rendering {frames} frames at {size} px", (frames + 3) * unit.frame(size))
    _writing(cost, frames, size * size)
    if req.fidelity == "faithful" and photos:
        _tuning(cost, unit, tuning_steps)
    return cost


def expected(req, models) -> Cost | None:
    """What ``req`` would cost on the machine ``models`` run on: checked, at the precision it
    resolves to there; None on a GPU (``work_budget``: the plan's probes overstate the work
    there) or where the plan is untimed. A mistake raises its ``MicromotionError``."""
    if models.device.type != "cpu":
        return None
    req = ensure_checked(req, models.shape)
    return estimate(req, models.plan, models.plan.resolve(req.dtype), steps_for(models.device))


def _photo(req: Animate | Transfer, unit: Rates, cost: Cost, tuning_steps: int) -> Cost:
    """An animation's or a transfer's work: its motion (or driver), then for each face that
    moves an inversion and its frames at the size it renders at (``_render_sizes``); then
    every frame pasted and encoded."""
    if isinstance(req, Animate):
        frames = req.frames
        _motions(req, unit, cost)
    else:
        drive = driver_of(req)
        frames = drive.frames(req)
        for part in drive.costs(req, unit):
            cost.add(*part)
    sizes, pixels = _render_sizes(req)
    faces = len(sizes)
    fewer = "use fewer faces, " + FEWER_FRAMES if faces > 1 else FEWER_FRAMES
    cost.add("inverting the photos", faces * unit.inversion, fewer)
    cost.add(_rendering(frames, sizes), (frames + 3) * sum(unit.frame(s) for s in sizes), fewer)
    _writing(cost, frames, pixels * (2 if req.side_by_side else 1))
    if req.fidelity == "faithful":
        _tuning(cost, unit, tuning_steps * faces)  # its pivots: one batch
    return cost


def _rendering(frames: int, sizes: list[int]) -> str:
    """What rendering the faces ``sizes`` (one size each) costs is called: "rendering 3
    frames at 256, 128 px, 2 faces"."""
    at = ", ".join(map(str, sorted(set(sizes), reverse=True)))
    return f"rendering {frames} frames at {at} px" + (
        f", {len(sizes)} faces" if len(sizes) > 1 else "")


def _writing(cost: Cost, frames: int, pixels: int) -> None:
    cost.add("writing the video", frames * pixels / 1e6 * ENCODE_PER_MPX,
             "use a smaller photo, paste_back off or no side by side, or fewer frames")


def _render_sizes(req: Animate | Transfer) -> tuple[list[int], int]:
    """The size each face that moves renders at, and the video's pixels a frame: pasted back,
    each face that moves at the size it fills in the photo (``paste.render_size``, from the
    faces the use case will move: ``faces.find``, kept for it, and ``faces.pick`` — so faces
    too small to move are not counted) in a video of the photo's size (``paste.video_size``);
    else — or where it shows none — ``output_size``, square."""
    size = req.output_size
    square = [size], size * size
    if req.paste_back == "off" and req.faces == "one":
        return square
    try:
        group = find(req.image, display_name(req, "image"))
        sides = [face_side(face) for face in pick(group, req.faces)[0]]
    except MicromotionError:  # no face to move: its use case says so, in its own stage
        return square
    w, h = group.photo.image.size
    if len(sides) == 1 and (req.paste_back == "off" or
                            req.paste_back == "auto" and w * h < 1.5 * sides[0] ** 2):
        return square  # not pasted back
    width, height = video_size(w, h)
    return [render_size(round(side), size) for side in sides], width * height


def _tuning(cost: Cost, unit: Rates, steps: int) -> None:
    cost.add("fidelity faithful's tuning", steps * TUNE_STEP * unit.grad32,
             "use fidelity fast, or fewer photos")


def _edit(req: Edit, unit: Rates, cost: Cost, tuning_steps: int, sizes: list[int] | None
          ) -> Cost:
    """An edit's work: its motion, then for each frame that moves finding the face, a warm
    inversion and one render (two for blend change) at the size each chosen face needs
    (``sizes``, else ``_clip_sizes``), and the look at the edit; then every frame decoded,
    pasted and encoded."""
    clip = footage(req.video, display_name(req, "video"))
    weights = edit_weights(clip.times, req.span, req.timeline)
    moves = int((weights > 0).sum())
    sizes = sizes or _clip_sizes(req, clip, moved_frames(weights)[0])
    faces = len(sizes)
    mpx = clip.width * clip.height / 1e6
    shorter = "use a shorter span" + (", or fewer faces" if faces > 1 else "")
    _motions(req, unit, cost)
    cost.add("following the face", moves * mpx * TRACK_PER_MPX * faces, shorter)
    cost.add("inverting the frames that move",
             faces * unit.in_order(moves), shorter)
    cost.add("the look at the edit", faces * unit.inversion, shorter)  # (for a door that
    # shows glimpses: its faces inverted as a photo's, before the clip's)
    cost.add(_rendering(moves, sizes),
             moves * sum(unit.frame(s) for s in sizes) * (2 if req.blend == "change" else 1),
             shorter)
    cost.add("writing the video", clip.n_frames * mpx * ENCODE_PER_MPX,
             "use a shorter or smaller video")
    if req.fidelity == "faithful":
        _tuning(cost, unit, tuning_steps)
    return cost


def _clip_sizes(req: Edit, clip: Footage, first: int) -> list[int]:
    """The size each face an edit moves renders at, from the faces its first moving frame
    shows (numbered as the edit numbers them, the search kept for it: ``track.choose``, those
    too small to move left out) at the size they fill (``paste.render_size``, as the edit
    sizes them); where that frame shows none, one face of half the frame's height."""
    half = [render_size(min(clip.width, clip.height) // 2, req.output_size, STRETCH)]
    found = first_faces(frames(clip, first, first + 1))
    if found is None:
        return half
    _, group = found
    try:
        picked, _ = choose(group.faces, req.faces, clip.name)
    except MicromotionError:  # a number not there: the edit says so, in its own stage
        return half
    sides = [crop_side(group.photo.image, box) for box, _ in picked]
    return [render_size(round(s), req.output_size, STRETCH) for s in sides
            if s >= SMALLEST * 256] or half  # (the encoders' 256 px)


def _motions(req: Animate, unit: Rates, cost: Cost) -> None:
    """Each distinct motion's anchors (identical cues share theirs)."""
    for m in distinct(request_motions(req))[0]:
        for what, seconds, lower in m.costs(unit):
            cost.add(what, seconds, lower)


def check_budget(req, plan, precision: Precision, tuning_steps: int, device: str = "cpu",
                 sizes: list[int] | None = None) -> Cost | None:
    """``req``'s estimate, or a ``BudgetError`` naming what costs most and what to lower when
    it is over ``work_budget(device)`` (an edit's ``sizes``: as ``estimate``)."""
    most = work_budget(device)
    if most <= 0:
        return None
    cost = estimate(req, plan, precision, tuning_steps, sizes)
    if cost is None or cost.seconds <= most:
        return cost
    raise BudgetError(over_budget(cost, most))


def over_budget(cost: Cost, most: float) -> str:
    """What a request of ``cost``, over the ``most`` seconds one may take, is told: about how
    long, what costs most, what to lower."""
    worst = sorted(cost.parts.items(), key=lambda kv: -kv[1])[:2]
    said = " and ".join(f"{what} (about {duration(s)})" for what, s in worst)
    return (f"this request would take about {duration(cost.seconds)} here, more than the "
            f"{duration(most)} one request may take; most of it is {said}: "
            f"{cost.lower[worst[0][0]]}")
