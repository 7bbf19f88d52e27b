"""One face followed through a clip, its crop held steady over time (STIT's lesson: a crop that
shakes with the detector makes the edit shake).

The first frame showing a face takes the most prominent one (the largest of the confident
faces); each later frame looks for it first in a window around its last box — small, so fast,
and a second person walking in is not picked up — then in the whole frame. Each frame's FFHQ
quad is held as its centre and its half-side vector (size and angle in one), both smoothed over
time by a zero-phase Gaussian; a frame where the face is lost takes the quad between its
neighbours' and is marked, so the edit leaves it alone.

    track = follow(frames)                 # .quads [T, 4, 2] steadied, .found [T]
    crop = warp_quad(frame, track.quads[t], 256)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from PIL import Image

from .align import (DETECT_MAX_SIDE, Box, detect_all_faces, detect_faces, ffhq_quad,
                    landmarks_at, quad_side, same_kind)
from .faces import (SMALLEST, Faces, Group, all_small, chosen, largest, left_small,
                    people)
from .images import load_image
from .smooth import smooth

STEADY_SECONDS = 0.05  # the crop's smoothing σ: 1.5 frames at 30 fps — the detector's jitter
# goes, a head's turn (a few tenths of a second) stays
WHOLE_EVERY = 30  # frames: before a face is found, one frame in so many (a second at 30 fps;
# the first of them the span's first) is searched as a photo is, for faces its small copy
# cannot show (0.65 s a 1080p frame; a 4K clip's, read at 2048 px, about 0.8 s)
WINDOW_FACE = 120  # px: the face's width in the window searched near its last box
Face = tuple[Box, float]


@dataclass
class Track:
    """One face through a clip's frames: quads ``[T, 4, 2]`` (TL, BL, BR, TR, frame pixels)."""
    quads: np.ndarray  # steadied: what the edit crops and pastes through
    raw: np.ndarray  # as detected, NaN where the face was lost
    found: np.ndarray  # bool [T]: the face was found in that frame
    people: int  # the most faces like the tracked one seen in one frame (itself included)

    @property
    def lost(self) -> list[int]:
        """The frames where the face was not found."""
        return np.flatnonzero(~self.found).tolist()

    @property
    def side(self) -> int:
        """The most px across its crop is in the clip's frames."""
        return int(np.ceil(np.nanmax(quad_side(self.quads))))


def follow(frames: Iterable[np.ndarray | Image.Image], fps: float = 30.0,
           progress: Callable[[int], None] | None = None) -> Track:
    """The most prominent face followed through ``frames`` (RGB, in time order), its quads
    steadied over ``STEADY_SECONDS`` at ``fps``; ``progress(frames done)`` after each."""
    return follow_faces(frames, fps, progress).tracks[0]


@dataclass
class Followed:
    """The faces a clip's edit follows: one ``Track`` each, and their numbers (from the left)
    among the ``seen`` faces of frame ``at``, the first that shows any."""
    tracks: list[Track]
    numbers: list[int]
    seen: int
    at: int

    def big_enough(self, size: int, name: str) -> tuple["Followed", list[str]]:
        """Only the faces whose crop is anywhere in the clip at least ``SMALLEST`` of an
        encoder of ``size``, and a note on the others (all too small: a ``NoFaceError``)."""
        small = [n for n, t in zip(self.numbers, self.tracks) if t.side < SMALLEST * size]
        if not small:
            return self, []
        kept = [(n, t) for n, t in zip(self.numbers, self.tracks) if n not in small]
        if not kept:
            raise all_small(name, size, "a video where they are larger")
        return (Followed([t for _, t in kept], [n for n, _ in kept], self.seen, self.at),
                [left_small(small, name, size)])


def follow_faces(frames: Iterable[np.ndarray | Image.Image], fps: float = 30.0,
                 progress: Callable[[int], None] | None = None, faces: Faces = "one",
                 name: str = "the video", times: Sequence[float] = ()) -> Followed:
    """The faces ``faces`` chooses in the first frame that shows any — ``one``: the most
    prominent; ``all`` (the largest ``most_faces()``) or numbers from the left — each followed
    through ``frames`` as ``follow`` follows one (a face lost looks again only near where it
    was, so two people never swap). A number that frame does not show is an
    ``OptionError`` naming the frame by its time (``times``: each frame's, s; none given:
    k / ``fps``)."""
    raw: list[list[np.ndarray]] = []
    boxes: list[Box] = []
    people_seen, numbers, seen, at, count = 0, [1], 0, -1, 0
    for k, frame in enumerate(frames):
        count = k + 1
        img = frame if isinstance(frame, Image.Image) else Image.fromarray(frame)
        now: list[Box | None] = []
        if at < 0:
            found = _faces_to_number(img, k % WHOLE_EVERY == 0)
            if found:
                at, lined = k, people(found)
                when = times[k] if k < len(times) else k / fps
                picked, numbers = choose(lined, faces, f"{name} at {when:.1f} s")
                boxes = now = [f[0] for f in picked]
                seen, people_seen = len(lined), sum(same_kind(f, picked[0]) for f in found)
                raw = [[np.full((4, 2), np.nan)] * k for _ in boxes]
        else:
            now, crowd = _again(img, boxes)
            boxes = [b if n is None else n for n, b in zip(now, boxes)]  # a lost face: its last
            people_seen = max(people_seen, crowd)
        for track, box in zip(raw, now):
            track.append(np.full((4, 2), np.nan) if box is None else
                         ffhq_quad(landmarks_at(img, box)))
        if progress:
            progress(k + 1)
    if at < 0:  # no face at all: one track, lost throughout
        raw = [[np.full((4, 2), np.nan)] * count]
    tracks = []
    for quads in raw:
        quads = np.stack(quads) if quads else np.zeros((0, 4, 2))
        found = ~np.isnan(quads[:, 0, 0])
        tracks.append(Track(steady(quads, found, STEADY_SECONDS * fps), quads, found,
                            max(people_seen, 1)))
    return Followed(tracks, numbers, seen, at)


def first_faces(frames: Iterable[np.ndarray]) -> tuple[int, Group] | None:
    """The first of ``frames`` (RGB, in time order) that shows any face → its index and its
    faces numbered from the left, as ``follow_faces`` numbers them; None where none does."""
    for k, frame in enumerate(frames):
        img = Image.fromarray(frame)
        found = _faces_to_number(img, k % WHOLE_EVERY == 0)
        if found:
            return k, Group(load_image(img, "the frame"), people(found))
    return None


_NUMBERED: dict[bytes, list[Face]] = {}


def _faces_to_number(img: Image.Image, whole: bool) -> list[Face]:
    """A frame's faces, where its small copy shows any or it is to be searched ``whole``:
    then all of them, found as a photo's are (``detect_all_faces``), so a group's small faces
    are numbered too, and a 4K shot's 90 px faces (24 on the small copy) are found at all —
    one larger search a clip once a face is found, one every ``WHOLE_EVERY`` frames before.
    The last frame searched is kept by its pixels: the page's preview, the budget and the
    edit number the same frame (0.9 s each for 1080p), once."""
    key = hashlib.blake2b(img.tobytes(), digest_size=16,
                          person=b"%dx%d:%d" % (*img.size, whole)).digest()
    seen = _NUMBERED.get(key)  # (read once: the page's quick answers run beside an edit)
    if seen is None:
        seen = detect_faces(img)
        if (seen or whole) and max(img.size) > DETECT_MAX_SIDE:  # (else: the frame was small)
            seen = detect_all_faces(img) or seen
        _NUMBERED.clear()  # the last frame's alone
        _NUMBERED[key] = seen
    return seen


def choose(lined: list[Face], faces: Faces, name: str) -> tuple[list[Face], list[int]]:
    """The faces ``faces`` chooses among a frame's, numbered from the left (``lined``), and
    their numbers: those an edit follows (a number not there: an ``OptionError``)."""
    if faces == "one":
        face = prominent(lined)
        return [face], [lined.index(face) + 1]
    numbers = chosen(len(lined), faces, name)
    if faces == "all":  # the largest, in number order
        numbers = [numbers[i] for i in largest([lined[k - 1][0][2] - lined[k - 1][0][0]
                                                for k in numbers])]
    return [lined[k - 1] for k in numbers], numbers


def _again(img: Image.Image, boxes: list[Box]) -> tuple[list[Box | None], int]:
    """Each followed face found again in the next frame near its last box — one face also
    anywhere, nearest it — or None where it is lost; and how many faces like it the frame
    shows, where it was searched whole."""
    now, crowd = [], 0
    for box in boxes:
        found = _near(img, box)
        if found is None and len(boxes) == 1:
            found, crowd = _anywhere(img, box)
        now.append(found)
    return now, crowd


def _anywhere(img: Image.Image, last: Box | None) -> tuple[Box | None, int]:
    """The face in the whole frame: nearest ``last`` where there is one, else the most
    prominent; and how many faces like it the frame shows."""
    faces = detect_faces(img)
    if not faces:
        return None, 0
    if last is None:
        chosen = prominent(faces)
    else:
        chosen = min(faces, key=lambda f: np.hypot(*(_centre(f[0]) - _centre(last))))
    return chosen[0], sum(same_kind(f, chosen) for f in faces)


def prominent(faces: list[Face]) -> Face:
    """The largest face among the confident ones (at least half the best score): the person
    the picture is of, not a small face in the background nor a faint false find."""
    best = max(score for _, score in faces)
    return max((f for f in faces if f[1] >= 0.5 * best),
               key=lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))


def _near(img: Image.Image, last: Box) -> Box | None:
    """The face in a window three times its last box, shrunk so the face is about
    ``WINDOW_FACE`` px (the detector's own size, no enlarging needed); None if not there."""
    side = max(last[2] - last[0], last[3] - last[1], 1)
    window = (max(last[0] - side, 0), max(last[1] - side, 0),
              min(last[2] + side, img.width), min(last[3] + side, img.height))
    if window[2] - window[0] < 16 or window[3] - window[1] < 16:
        return None
    crop = img.crop(window)
    scale = min(1.0, WINDOW_FACE / side)
    faces = detect_faces(crop, upsample=0 if side * scale >= 90 else 1,
                         max_side=max(16, round(max(crop.size) * scale)))
    if not faces:
        return None
    box, _ = min(faces, key=lambda f: np.hypot(*(_centre(f[0]) + window[:2] - _centre(last))))
    return (box[0] + window[0], box[1] + window[1], box[2] + window[0], box[3] + window[1])


def _centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def steady(raw: np.ndarray, found: np.ndarray, sigma: float) -> np.ndarray:
    """Quads ``[T, 4, 2]`` steadied: each as centre and half-side vector (the quad is
    ``c ∓ x ∓ y`` with y ⟂ x, so the vector holds its size and angle), those filled in
    between the frames where the face was found and smoothed with a Gaussian of ``sigma``
    frames; rebuilt as quads."""
    if not found.any():
        return raw.copy()
    centre = raw.mean(1)
    half = (raw[:, 2] + raw[:, 3] - raw[:, 0] - raw[:, 1]) / 4
    t, kept = np.arange(len(raw)), np.flatnonzero(found)
    params = np.stack([np.interp(t, kept, p[kept]) for p in
                       (centre[:, 0], centre[:, 1], half[:, 0], half[:, 1])], 1)
    params = smooth(torch.from_numpy(params), min(sigma, 30.0)).numpy() if sigma > 0 else params
    c, x = params[:, :2], params[:, 2:]
    y = x[:, ::-1] * [-1, 1]
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y], 1)


def jitter(quads: np.ndarray) -> float:
    """How much a crop shakes: the RMS of its centre's second difference over time (px per
    frame²; a steady pan or zoom has none)."""
    c = quads.mean(1)
    c = c[~np.isnan(c[:, 0])]
    return float(np.sqrt((np.diff(c, 2, axis=0) ** 2).sum(1).mean())) if len(c) > 2 else 0.0
