"""The video edit: a clip in, the same clip out — its frame count, rate, size (up to
``video.READ_SIDE``) and sound — with its face moved over the span.

The clip is read three times, never held whole: (1) the face followed through the frames that
move, its crop steadied over time (``track.follow``) — then, for a door that shows the work,
a look at the edit where the motion is strongest (``edit_write.first_look``: seconds, where
the inversion is minutes on a CPU); (2) those frames' faces cropped through
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

from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from ..errors import NoFaceError, OptionError
from ..latents.direction import Direction
from ..latents.span import edit_weights, moved_frames, parse_span
from ..media.align import AlignedFace, warp_quad
from ..media.ffmpeg import runs
from ..media.paste import STRETCH, render_size
from ..media.preview import from_images, show, spread
from ..media.render import curve_shape
from ..media.smooth import SMOOTH_SIGMA, smooth
from ..media.stream import Footage, footage, frames, with_sound
from ..media.faces import Group, moved_note
from ..media.track import Followed, Track, first_faces, follow_faces, jitter
from ..media.video import pick_indices
from ..fields import MAX_TUNED_PHOTOS
from ..motions import distinct, request_motions, source_of
from ..naming import display_name
from ..nets.encoders.warm import invert_in_order
from ..nets.models import Models
from ..nets.tuning import steps_for
from ..requests.budget import check_budget
from ..requests.request import Edit
from ..run import Run
from .edit_write import Moving, first_look, identities, write_edit
from .results import EditHow, Edited, Inversion, MovedFace
from .steps import faithful, ready, tuning_notes

LOOK_SECONDS = 1.0  # the page looks this far into the span for the faces it numbers (a face
# detection a frame: a second of frames is a few seconds' wait)
LOST_EASE = 0.25  # s: the motion fades out over this long before a frame where the face is lost


def edit(models: Models, req: Edit, run: Run) -> Edited:
    """The clip ``req.video`` with its chosen faces (``req.faces``: the most prominent one by
    default) performing the request's motion over its span → mp4 at ``run.out``, its sound
    kept."""
    req, run = ready(models, req, run)
    name = display_name(req, "video")
    clip = footage(req.video, name)
    weights = edit_weights(clip.times, req.span, req.timeline)
    a, b = moved_frames(weights)
    once, which = distinct(request_motions(req))  # a clip's faces found before the video's
    motions = [m.ready(models, run) for m in once]
    followed, glimpse, left = _follow(clip, a, b, req, run, models.encoder.input_size)
    clip, cut = _decoded(clip, b, a + len(followed.tracks[0].found))
    b, weights = min(b, clip.n_frames), weights[:clip.n_frames]
    _show_faces(run, glimpse, followed, a, clip, models.encoder.input_size)
    tracks = followed.tracks
    asked = min(req.output_size, models.generator.size)
    sizes = [render_size(t.side, asked, STRETCH) for t in tracks]
    # the budget judged the faces' sizes from one frame: a face that grows (a zoom) costs more
    check_budget(req, models.plan, run.precision, steps_for(models.device),
                 models.device.type, sizes)
    made_once = [m.make(models, run) for m in motions]
    made = [made_once[k] for k in which]
    paths = [_offsets(req, made, weights[a:b], t, clip.times[a:b], a) for t in tracks]
    faces = [Moving(n, t, torch.zeros(0), offsets, size)
             for n, t, (offsets, _), size in zip(followed.numbers, tracks, paths, sizes)]
    first_look(models, clip, a, faces, req.blend, run, req.fidelity == "faithful")
    each = _invert(models, clip, a, b, tracks, run, max(1, MAX_TUNED_PHOTOS // len(tracks)))
    view, tuning = faithful(models, req.fidelity, [p for _, ps in each for p in ps], run)
    faces = [replace(f, w=w) for f, (w, _) in zip(faces, each)]
    silent = run.out.with_name(run.out.stem + ".silent.mp4")
    try:
        written = write_edit(view, clip, a, faces, req.blend, silent, run)
        notes = with_sound(silent, clip, run.out)
    except BaseException:  # stopped or failed: no half-made video is left
        run.out.unlink(missing_ok=True)
        raise
    finally:
        silent.unlink(missing_ok=True)
    start, end = (clip.at(a), clip.end) if req.timeline else parse_span(req.span, clip.end)
    how = EditHow(name, clip.n_frames, clip.fps, start, end, written.moved,
                  max(f.size for f in faces), req.blend,
                  (jitter(tracks[0].raw), jitter(tracks[0].quads)))
    alike = identities(view, faces, written, run.precision)
    return Edited(run.out, paths[0][1], how, each[0][0],
                  cut + _notes(clip, req, followed, a, faces, left) + notes +
                  tuning_notes(tuning),
                  alike[0], tuning=tuning,
                  faces=[MovedFace(f.number, None, i) for f, i in zip(faces, alike)])


def clip_faces(video: str, name: str, span: str = "") -> Group | None:
    """The faces an edit of ``video`` over ``span`` numbers — those of the span's first frame
    showing any, within its first ``LOOK_SECONDS`` — or None where none shows there: what the
    page boxes and numbers at once after an upload. The clip is checked as an edit checks it."""
    clip = footage(video, name)
    a, b = moved_frames(edit_weights(clip.times, span))
    found = first_faces(frames(clip, a, min(b, a + max(1, round(LOOK_SECONDS * clip.fps)))))
    if found is None:
        return None
    k, group = found
    return Group(replace(group.photo, name=f"{name} at {clip.at(a + k):.1f} s"), group.faces)


def _follow(clip: Footage, a: int, b: int, req: Edit, run: Run, size: int
            ) -> tuple[Followed, dict[int, np.ndarray], list[str]]:
    """The chosen faces followed through frames a..b (with numbers or all: those large enough
    for an encoder of ``size``), the first, middle and last frames kept for the preview, and
    the note on faces left alone; fidelity faithful's limit said before any inversion."""
    glimpse: dict[int, np.ndarray] = {}
    keep = set(spread(b - a))

    def kept():
        for k, frame in enumerate(frames(clip, a, b)):
            if k in keep:
                glimpse[k] = frame
            yield frame

    followed = follow_faces(kept(), clip.fps, lambda k: run.report("follow the face", k, b - a),
                            req.faces, clip.name, clip.times[a:b])
    if followed.at < 0:
        raise NoFaceError(f"no face found in {clip.name} from {clip.at(a):.1f} s to "
                          f"{clip.at(b):.1f} s; use a video where one face is in view")
    left: list[str] = []
    if req.faces != "one":
        followed, left = followed.big_enough(size, f"{clip.name} at "
                                                   f"{clip.at(a + followed.at):.1f} s")
    if req.fidelity == "faithful" and len(followed.tracks) > MAX_TUNED_PHOTOS:
        raise OptionError(f"fidelity faithful tunes the generator to every face at once, at "
                          f"most {MAX_TUNED_PHOTOS}; {len(followed.tracks)} faces would move: "
                          f"name at most {MAX_TUNED_PHOTOS} or use fidelity fast")
    return followed, glimpse, left


def _decoded(clip: Footage, b: int, end: int) -> tuple[Footage, list[str]]:
    """The clip as far as its frames decode — to ``end``, where the frames up to ``b`` ran out
    there (a file cut short, whose header counts frames that are not in it) — and a note."""
    if end >= b:
        return clip, []
    decoded = replace(clip, n_frames=end, times=clip.times[:end])
    return decoded, [
        f"the last {clip.n_frames - end} frame(s) of {clip.name} could not be decoded (the file "
        f"is cut short), so the video ends at {decoded.end:.1f} s"]


def _show_faces(run: Run, glimpse: dict[int, np.ndarray], followed: Followed, a: int,
                clip: Footage, size: int) -> None:
    """Each followed face's first, middle and last crops (several faces: the first frame's
    of each), before any inversion."""
    if run.preview is None:
        return
    tracks = followed.tracks
    if len(tracks) == 1:
        crops = [warp_quad(Image.fromarray(f), tracks[0].quads[k], size)
                 for k, f in glimpse.items()]
        captions = [f"the face in {clip.name} at {clip.at(a + k):.1f} s" for k in glimpse]
    else:
        k, frame = next(iter(glimpse.items()))
        crops = [warp_quad(Image.fromarray(frame), t.quads[k], size) for t in tracks]
        captions = [f"face {n} at {clip.at(a + k):.1f} s" for n in followed.numbers]
    show(run.preview, "face", from_images(crops), captions)


def _invert(models: Models, clip: Footage, a: int, b: int, tracks: list[Track], run: Run,
            pivots: int) -> list[tuple[torch.Tensor, list[Inversion]]]:
    """Each face's W+ ``[b - a, L, D]`` through its steadied quads — every face of a frame
    in the same encoder passes, each warm from its own, the clip decoded once; a frame where
    a face is lost holds its nearest found frame's; then smoothed over time. Also ``pivots``
    of them a face, spread over the frames, for fidelity faithful to tune to."""
    size, n, k = models.encoder.input_size, b - a, len(tracks)
    pivots_at = [set(pick_indices(n, pivots)) & set(np.flatnonzero(t.found)) for t in tracks]
    crops: list[dict[int, Image.Image]] = [{} for _ in tracks]

    def faces():
        for t, frame in enumerate(frames(clip, a, b)):
            image = Image.fromarray(frame)
            for face, track in enumerate(tracks):
                crop = warp_quad(image, track.quads[t], size)
                if t in pivots_at[face]:
                    crops[face][t] = crop
                yield crop

    w = invert_in_order(models.encoder, faces(), precision=run.precision, per_frame=k,
                        progress=lambda t: run.report("invert the frames", t, n))
    w = w.reshape(n, k, *w.shape[1:])
    return [_held(w[:, face], track, crops[face]) for face, track in enumerate(tracks)]


def _held(w: torch.Tensor, track: Track, crops: dict[int, Image.Image]
          ) -> tuple[torch.Tensor, list[Inversion]]:
    """One face's W+ ``[T, L, D]`` held where it is lost and smoothed, and its pivots."""
    found = torch.from_numpy(np.flatnonzero(track.found))
    nearest = (torch.arange(len(w))[:, None] - found[None]).abs().argmin(1)
    w = smooth(w[found[nearest]], SMOOTH_SIGMA)
    return w, [Inversion(w[t:t + 1], _aligned(crop, track.quads[t])) for t, crop in crops.items()]


def _aligned(crop: Image.Image, quad: np.ndarray) -> AlignedFace:
    """A clip's crop as the aligned face tuning takes (its image; no photo to paste into)."""
    return AlignedFace(crop, quad, np.zeros((68, 2)), 0, 1, 1.0, (0, 0, 0, 0))


def _offsets(req: Edit, made: list, share: torch.Tensor, track: Track,
             times: tuple[float, ...], a: int
             ) -> tuple[torch.Tensor, Direction]:
    """Each moving frame's W+ offset ``[b - a, L, D]`` (float32, on the CPU) and the
    direction followed: the span's eased share ``[b - a]`` of ``scale · d``, or a timeline's
    own path over the clip; faded out near a frame where the face is lost (the moving frames
    show at ``times`` s)."""
    source = source_of(req)
    directions = [d for d, _ in made]
    if source.timed:  # its cues say when, in parts of the clip
        zero = torch.zeros(1, *directions[0].vector.shape)
        path, direction = source.path(req, zero, directions)
        offsets = path[a:a + len(share)].float().cpu()
    else:
        direction = directions[0]
        offsets = share.float()[:, None, None] * req.scale * direction.vector.float().cpu()[None]
    return offsets * _presence(track.found, times)[:, None, None], direction


def _presence(found: np.ndarray, times: tuple[float, ...]) -> torch.Tensor:
    """``[T]`` in [0, 1] for frames showing at ``times`` s: 0 where the face is lost, easing
    to 1 over ``LOST_EASE`` s away from such a frame, so the edit fades rather than blinks
    around it."""
    if found.all():
        return torch.ones(len(found))
    lost = np.flatnonzero(~found)
    t = np.asarray(times[:len(found)])
    away = np.abs(t[:, None] - t[lost][None]).min(1)
    return curve_shape(torch.from_numpy(away / LOST_EASE).clamp(0, 1), "ease").float()


def _notes(clip: Footage, req: Edit, followed: Followed, a: int, faces: list[Moving],
           left: list[str]) -> list[str]:
    """What was chosen for the user: the size it was edited at, the faces among several (and
    ``left``, those left alone), the seconds where a face was lost, the render's size."""
    notes = []
    if clip.scaled:
        notes.append(f"{clip.name} is {clip.own_size[0]}×{clip.own_size[1]}; it was edited "
                     f"at {clip.width}×{clip.height}")
    if clip.hdr:
        notes.append(f"{clip.name} is HDR ({clip.hdr}); it was edited as SDR, as an SDR screen "
                     f"shows it, so the video is SDR")
    if req.faces != "one":
        where = f"{clip.name} at {clip.at(a + followed.at):.1f} s"
        notes.append(moved_note(followed.seen, where, [f.number for f in faces]))
        notes += left
    elif followed.tracks[0].people > 1:
        notes.append(f"{followed.tracks[0].people} faces are in {clip.name}; the most "
                     f"prominent (the largest) was edited")
    one = len(faces) == 1
    for f in faces:
        if f.track.lost:
            notes.append(f"{'the face' if one else f'face {f.number}'} was not found at "
                         f"{_seconds(f.track.lost, a, clip)}, so "
                         f"{'those frames are' if one else 'it is'} as filmed there")
    sides, sizes = [f.track.side for f in faces], [f.size for f in faces]
    notes.append(f"the face is at most {sides[0]} px across in the frame, so it was rendered "
                 f"at {sizes[0]} px" if one else
                 f"the faces are at most {', '.join(map(str, sides))} px across in the frame, "
                 f"so they were rendered at {', '.join(map(str, sizes))} px")
    return notes


def _seconds(lost: list[int], a: int, clip: Footage) -> str:
    """Frames (from ``a``) as runs of seconds: "2.0–2.3 s, 4.1 s"."""
    lost_runs = runs(lost)
    said = [f"{clip.at(a + s):.1f}" + ("" if s == e else f"–{clip.at(a + e):.1f}")
            for s, e in lost_runs[:6]]
    more = len(lost_runs) - 6
    return ", ".join(said) + " s" + (f" and {more} more times" if more > 0 else "")
