"""The video edit: a clip in, the same clip out — its frame count, rate, size (up to
``video.READ_SIDE``) and sound — with its face moved over the span.

The clip is read three times, never held whole: (1) the face followed through the frames that
move, its crop steadied over time (``track.follow``); (2) those frames' faces cropped through
the steadied quads and inverted in time order, each warm from the frames before it
(``warm.invert_in_order``), the W+ smoothed over time; (3) every frame written — a moving one
with the face rendered at the size it fills and blended in, the rest as they were — and the
clip's sound put back (``stream.with_sound``).

``blend`` change (the default) adds only what the motion changes — render(w + Δ) − render(w) —
to the frame's own pixels: where the motion does nothing the frame is as filmed, so the
person's own detail, light and skin stay and the span's edges cannot jump by the inversion's
error; ``face`` puts the render itself in (with fidelity faithful for the likeness).

    edit(models, Edit("me.mp4", "smile", span="2-5"), Run("me-smile.mp4"))
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..errors import NoFaceError
from ..latents.direction import Direction
from ..latents.span import edit_weights, parse_span
from ..media.align import AlignedFace, warp_quad
from ..media.ffmpeg import runs
from ..media.paste import PasteBack, render_size
from ..media.preview import from_images, show, spread
from ..media.render import VideoWriter, curve_shape, overlapped, render_frames
from ..media.smooth import SMOOTH_SIGMA, smooth
from ..media.stream import Footage, footage, frames, with_sound
from ..media.track import Track, follow, jitter
from ..media.video import pick_indices
from ..fields import MAX_TUNED_PHOTOS
from ..motions import distinct, request_motions, source_of
from ..naming import display_name
from ..nets.encoders.warm import invert_in_order
from ..nets.models import Models
from ..requests.request import Edit
from ..run import Run
from .results import EditHow, Edited, Inversion
from .steps import faithful, ready, tuning_notes

LOST_EASE = 0.25  # s: the motion fades out over this long before a frame where the face is lost
STRETCH = 1.25  # a moving face may be enlarged this much from its render: a frame shows for a
# thirtieth of a second, and a face 257–320 px across renders at 256, a quarter of 512's pixels
CHUNK = 8  # frames written a batch; the moving ones among them render together


def edit(models: Models, req: Edit, run: Run) -> Edited:
    """The clip ``req.video`` with its face performing the request's motion over its span →
    mp4 at ``run.out``, its sound kept."""
    req, run = ready(models, req, run)
    name = display_name(req, "video")
    clip = footage(req.video, name)
    weights = edit_weights(clip.n_frames, clip.fps, req.span, req.timeline)
    moving = torch.nonzero(weights > 0).flatten()
    a, b = int(moving[0]), int(moving[-1]) + 1
    once, which = distinct(request_motions(req))  # a clip's faces found before the video's
    motions = [m.ready(models, run) for m in once]
    track, glimpse = _follow(clip, a, b, run)
    _show_faces(run, glimpse, track, a, clip, models.encoder.input_size)
    w, pivots = _invert(models, clip, a, b, track, run)
    made_once = [m.make(models, run) for m in motions]
    offsets, direction = _offsets(req, [made_once[k] for k in which], weights[a:b], w, track,
                                  clip.fps, a)
    view, tuning = faithful(models, req.fidelity, pivots, run)
    sides = np.hypot(*(track.quads[:, 3] - track.quads[:, 0]).T)
    size = render_size(int(np.ceil(sides.max())), min(req.output_size, view.generator.size),
                       STRETCH)
    silent = run.out.with_name(run.out.stem + ".silent.mp4")
    try:
        moved = _write(view, clip, a, w, offsets, track, size, req.blend, silent, run)
        notes = with_sound(silent, clip, run.out)
    except BaseException:  # stopped or failed: no half-made video is left
        run.out.unlink(missing_ok=True)
        raise
    finally:
        silent.unlink(missing_ok=True)
    start, end = (a / clip.fps, clip.seconds) if req.timeline else \
        parse_span(req.span, clip.seconds)
    how = EditHow(name, clip.n_frames, clip.fps, start, end, moved, size, req.blend,
                  (jitter(track.raw), jitter(track.quads)))
    return Edited(run.out, direction, how, w, _notes(clip, track, a, int(sides.max()), size) +
                  notes + tuning_notes(tuning), tuning=tuning)


def _follow(clip: Footage, a: int, b: int, run: Run) -> tuple[Track, dict[int, np.ndarray]]:
    """The face followed through frames a..b, and the first, middle and last of them kept for
    the preview."""
    glimpse: dict[int, np.ndarray] = {}
    keep = set(spread(b - a))

    def kept():
        for k, frame in enumerate(frames(clip, a, b)):
            if k in keep:
                glimpse[k] = frame
            yield frame

    track = follow(kept(), clip.fps, lambda k: run.report("follow the face", k, b - a))
    if not track.found.any():
        raise NoFaceError(f"no face found in {clip.name} from {a / clip.fps:.1f} s to "
                          f"{b / clip.fps:.1f} s; use a video where one face is in view")
    return track, glimpse


def _show_faces(run: Run, glimpse: dict[int, np.ndarray], track: Track, a: int,
                clip: Footage, size: int) -> None:
    """The tracked face's first, middle and last crops, before any inversion."""
    if run.preview is None:
        return
    crops = [warp_quad(Image.fromarray(f), track.quads[k], size) for k, f in glimpse.items()]
    show(run.preview, "face", from_images(crops),
         [f"the face in {clip.name} at {(a + k) / clip.fps:.1f} s" for k in glimpse])


def _invert(models: Models, clip: Footage, a: int, b: int, track: Track, run: Run
            ) -> tuple[torch.Tensor, list[Inversion]]:
    """W+ ``[b - a, L, D]`` of the faces through the steadied quads, warm and in order; a
    frame where the face is lost holds its nearest found frame's; then smoothed over time.
    Also a few of them spread over the frames as the pivots fidelity faithful tunes to."""
    size, n = models.encoder.input_size, b - a
    pivots_at = set(pick_indices(n, MAX_TUNED_PHOTOS)) & set(np.flatnonzero(track.found))
    crops: dict[int, Image.Image] = {}

    def faces():
        for k, frame in enumerate(frames(clip, a, b)):
            crop = warp_quad(Image.fromarray(frame), track.quads[k], size)
            if k in pivots_at:
                crops[k] = crop
            yield crop

    w = invert_in_order(models.encoder, faces(), precision=run.precision,
                        progress=lambda k: run.report("invert the frames", k, n))
    found = torch.from_numpy(np.flatnonzero(track.found))
    nearest = (torch.arange(n)[:, None] - found[None]).abs().argmin(1)
    w = smooth(w[found[nearest]], SMOOTH_SIGMA)
    return w, [Inversion(w[k:k + 1], _aligned(crop, track.quads[k])) for k, crop in crops.items()]


def _aligned(crop: Image.Image, quad: np.ndarray) -> AlignedFace:
    """A clip's crop as the aligned face tuning takes (its image; no photo to paste into)."""
    return AlignedFace(crop, quad, np.zeros((68, 2)), 0, 1, 1.0, (0, 0, 0, 0))


def _offsets(req: Edit, made: list, share: torch.Tensor, w: torch.Tensor, track: Track,
             fps: float, a: int) -> tuple[torch.Tensor, Direction]:
    """Each moving frame's W+ offset ``[b - a, L, D]`` and the direction followed: the span's
    eased share of ``scale · d``, or a timeline's own path over the clip; faded out near a
    frame where the face is lost."""
    source = source_of(req)
    directions = [d for d, _ in made]
    if source.timed:  # its cues say when, in parts of the clip
        zero = torch.zeros_like(w[:1])
        path, direction = source.path(req, zero, directions)
        offsets = path[a:a + len(w)].to(w)
    else:
        direction = directions[0]
        offsets = share.to(w)[:, None, None] * req.scale * direction.vector.to(w)[None]
    return offsets * _presence(track.found, fps).to(w)[:, None, None], direction


def _presence(found: np.ndarray, fps: float) -> torch.Tensor:
    """``[T]`` in [0, 1]: 0 where the face is lost, easing to 1 over ``LOST_EASE`` s away from
    such a frame, so the edit fades rather than blinks around it."""
    if found.all():
        return torch.ones(len(found))
    lost = np.flatnonzero(~found)
    away = np.abs(np.arange(len(found))[:, None] - lost[None]).min(1) / fps
    return curve_shape(torch.from_numpy(away / LOST_EASE).clamp(0, 1), "ease").float()


def _write(models: Models, clip: Footage, a: int, w: torch.Tensor, offsets: torch.Tensor,
           track: Track, size: int, blend: str, out, run: Run) -> int:
    """Every frame of the clip to ``out`` (no sound), ``CHUNK`` at a time: frames a.. with an
    offset rendered and blended in, the rest as read — a chunk pasted and encoded in a worker
    thread while the next renders (``render.overlapped``). Returns how many moved."""
    moves = (offsets.flatten(1).abs().amax(1) > 0).tolist()
    total = sum(moves)

    def rendered():
        moved = 0
        for start, chunk in _chunks(frames(clip), CHUNK):
            rows = [k - a for k in range(start, start + len(chunk))
                    if 0 <= k - a < len(moves) and moves[k - a]]
            faces = _render(models, w[rows] + offsets[rows], w[rows], size, blend, run) \
                if rows else None
            if rows and moved == 0:  # the first moved faces, as soon as they are made
                _show_frames(run, faces[:len(rows)], [a + r for r in rows], clip)
            if rows:
                moved += len(rows)
                run.report("render", moved, total)
            else:
                run.report("write", start + len(chunk), clip.n_frames)  # (Stop looks here)
            yield start, chunk, rows, faces

    with VideoWriter(out, clip.fps) as writer:
        def finish(item) -> None:
            start, chunk, rows, faces = item
            for i, row in enumerate(rows):
                k = a + row - start
                chunk[k] = _paste(chunk[k], track.quads[row], faces, i, blend)
            writer.write(np.stack(chunk))

        overlapped(rendered(), finish)
    return total


def _chunks(items, n: int):
    """(index of the first, a list of up to ``n`` items) in turn."""
    chunk, start = [], 0
    for k, item in enumerate(items):
        chunk.append(item)
        if len(chunk) == n:
            yield start, chunk
            chunk, start = [], k + 1
    if chunk:
        yield start, chunk


def _render(models: Models, moved: torch.Tensor, still: torch.Tensor, size: int, blend: str,
            run: Run) -> np.ndarray:
    """The faces W+ ``moved`` (and, for blend change, ``still`` after them: the same faces
    unmoved) → ``uint8 [B, S, S, 3]``, one batch."""
    latents = torch.cat([moved, still]) if blend == "change" else moved
    return next(render_frames(models.generator, latents, len(latents), size,
                              run.precision.render))


def _paste(frame: np.ndarray, quad: np.ndarray, faces: np.ndarray, i: int,
           blend: str) -> np.ndarray:
    """Face ``i`` of the batch blended into its frame through its quad."""
    paste = PasteBack(frame, [quad])
    if blend == "change":
        n = len(faces) // 2
        return paste.change([faces[i:i + 1]], [faces[n + i:n + i + 1]])[0]
    return paste([faces[i:i + 1]])[0]


def _show_frames(run: Run, faces: np.ndarray, at: list[int], clip: Footage) -> None:
    """The first moved faces as they come (``frames``): what the edit will look like."""
    if run.preview is not None:
        picked = spread(len(at))
        show(run.preview, "frames", from_images([Image.fromarray(faces[k]) for k in picked]),
             [f"{clip.name} at {at[k] / clip.fps:.1f} s" for k in picked])


def _notes(clip: Footage, track: Track, a: int, side: int, size: int) -> list[str]:
    """What was chosen for the user: the size it was edited at, the face among several, the
    seconds where the face was lost, the render's size."""
    notes = []
    if clip.scaled:
        notes.append(f"{clip.name} is {clip.own_size[0]}×{clip.own_size[1]}; it was edited "
                     f"at {clip.width}×{clip.height}")
    if track.people > 1:
        notes.append(f"{track.people} faces are in {clip.name}; the most prominent (the "
                     f"largest) was edited")
    if track.lost:
        notes.append(f"the face was not found at {_seconds(track.lost, a, clip.fps)}, so those "
                     f"frames are as filmed")
    notes.append(f"the face is at most {side} px across in the frame, so it was rendered at "
                 f"{size} px")
    return notes


def _seconds(lost: list[int], a: int, fps: float) -> str:
    """Frames (from ``a``) as runs of seconds: "2.0–2.3 s, 4.1 s"."""
    lost_runs = runs(lost)
    said = [f"{(a + s) / fps:.1f}" + ("" if s == e else f"–{(a + e) / fps:.1f}")
            for s, e in lost_runs[:6]]
    more = len(lost_runs) - 6
    return ", ".join(said) + " s" + (f" and {more} more times" if more > 0 else "")
