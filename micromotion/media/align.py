"""FFHQ alignment: 68 dlib landmarks → the FFHQ quad → an upright square crop of the face.

The geometry is that of the FFHQ dataset script (and ReStyle's ``align_faces_parallel``, see
``../shared/reference/FORMATS.md`` §7): the quad is centred a tenth of the way from the eyes to
the mouth, rotated so the eyes are level, and sized by max(2·eye-to-eye, 1.8·eye-to-mouth); the
photo is shrunk when the face is much larger than the output, cropped to the quad plus a border,
padded by blurred reflection when the quad leaves the photo, and resampled through the quad.

Landmark models: dlib's HOG frontal face detector and the 68-point shape predictor shipped by
the ``face-recognition-models`` package (located without importing it: its ``__init__`` needs
``pkg_resources``).
"""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from ..errors import NoFaceError
from .images import ImageSource, LoadedImage, load_image

DETECT_MAX_SIDE = 1024  # faces are found on a copy no larger than this, then mapped back —
# but a picture's faces are numbered on a copy of at most this many pixels: a 12 MP phone
# photo's down to about 70 px across (a class photo's; the encoder moves faces from about 35),
# in about 1.3 s on 2 cores (on a 1024 px copy, faces under about 160 px were missed: a group
# photo had "no face"); a clip's frames on the small copy, but its first with a face numbered
# as a photo (one larger search a clip: 0.65 s for a 1080p frame, against 0.26)
PHOTO_DETECT_PIXELS = 4_000_000


@dataclass
class AlignedFace:
    """An aligned face. ``quad`` ``[4, 2]`` is the crop's corners (top-left, bottom-left,
    bottom-right, top-right) in original-image pixels; ``landmarks`` ``[68, 2]`` likewise."""
    image: Image.Image
    quad: np.ndarray
    landmarks: np.ndarray
    face_index: int
    n_faces: int
    score: float
    box: tuple[int, int, int, int]  # detector box (left, top, right, bottom), original pixels
    notes: list[str] = field(default_factory=list)
    photo: Image.Image | None = None  # the photo it came from, upright (for paste-back)
    people: int = 1  # faces about as confident and large as this one, itself included


class _Models:
    """dlib's detector and shape predictor, loaded once per process on first use."""
    _lock = threading.Lock()
    _loaded = None
    # dlib's detector scans with a buffer it keeps between calls: two threads detecting at
    # once (the page numbering a clip's faces while an edit follows one) crash the process
    detecting = threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._loaded is None:
                import dlib
                cls._loaded = (dlib.get_frontal_face_detector(),
                               dlib.shape_predictor(str(landmark_model_path())))
            return cls._loaded


def landmark_model_path() -> Path:
    """``shape_predictor_68_face_landmarks.dat`` inside the ``face_recognition_models`` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed "
                           "(pip install face-recognition-models)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / \
        "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall face-recognition-models")
    return path


Box = tuple[int, int, int, int]  # (left, top, right, bottom), original pixels


def detect_faces(img: Image.Image, upsample: int = 1,
                 max_side: int = DETECT_MAX_SIDE) -> list[tuple[Box, float]]:
    """Every face dlib finds: (box, score), in the detector's order. Detection runs on a copy
    no larger than ``max_side``, enlarged ``upsample`` times (dlib's HOG window is 80 px: one
    doubling finds faces down to about 40 px); boxes are mapped back to ``img``'s pixels."""
    detector, _ = _Models.get()
    scale = min(1.0, max_side / max(img.size))
    small = img if scale == 1.0 else img.resize(
        (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR)
    with _Models.detecting:
        rects, scores, _ = detector.run(np.asarray(small), upsample, 0.0)
    return [(tuple(int(round(v / scale)) for v in (r.left(), r.top(), r.right(), r.bottom())),
             float(sc)) for r, sc in zip(rects, scores)]


def detect_all_faces(img: Image.Image) -> list[tuple[Box, float]]:
    """``detect_faces`` on a copy of at most ``PHOTO_DETECT_PIXELS``: every face of a group,
    a class, down to about 70 px across in a 12 MP photo (what numbers a picture's faces)."""
    w, h = img.size
    fits = min(1.0, (PHOTO_DETECT_PIXELS / (w * h)) ** 0.5)
    return detect_faces(img, max_side=max(DETECT_MAX_SIDE, int(max(w, h) * fits)))


def landmarks_at(img: Image.Image, box: Box) -> np.ndarray:
    """The 68 landmarks ``[68, 2]`` (x, y pixels) of the face in ``box``. The predictor reads
    pixels within the box and a little around it: it is given that part of the photo, a box's
    side on each side (the same landmarks, to the pixel; the whole of a 12 MP photo took 45 ms
    to hand over, a face's part well under 1)."""
    import dlib
    side = max(box[2] - box[0], box[3] - box[1], 1)
    x0, y0 = max(0, box[0] - side), max(0, box[1] - side)
    part = img.crop((x0, y0, min(img.width, box[2] + side), min(img.height, box[3] + side)))
    shape = _Models.get()[1](np.asarray(part), dlib.rectangle(box[0] - x0, box[1] - y0,
                                                               box[2] - x0, box[3] - y0))
    return np.array([[p.x + x0, p.y + y0] for p in shape.parts()], dtype=np.float64)


def same_kind(face: tuple[Box, float], chosen: tuple[Box, float]) -> bool:
    """A detection as confident and about as large as the chosen face: another person, not
    one of the detector's faint false finds (a badge, a pattern; scores ~0.1 against ~1)."""
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
    return face[1] >= 0.5 * chosen[1] and area(face[0]) >= 0.25 * area(chosen[0])


def _centre(box: Box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def ffhq_quad(lm: np.ndarray) -> np.ndarray:
    """The FFHQ crop quad ``[4, 2]`` (TL, BL, BR, TR) from 68 landmarks."""
    eye_left, eye_right = lm[36:42].mean(0), lm[42:48].mean(0)
    eye_avg = (eye_left + eye_right) / 2
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) / 2
    eye_to_mouth = mouth_avg - eye_avg
    # x points along the eye line, bent by the face's vertical axis so tilted faces come upright
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x = x / np.hypot(*x) * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def quad_side(quad: np.ndarray) -> np.ndarray:
    """How many px across an FFHQ quad ``[..., 4, 2]`` (TL, BL, BR, TR) is: its top edge's
    length, ``[...]``."""
    top = quad[..., 3, :] - quad[..., 0, :]
    return np.hypot(top[..., 0], top[..., 1])


def crop_side(img: Image.Image, box: Box) -> float:
    """How many px across the FFHQ crop of the face in ``box`` is, from its landmarks alone
    (no warp): which of a group's faces are large enough to move."""
    return float(quad_side(ffhq_quad(landmarks_at(img, box))))


def warp_quad(img: Image.Image, quad: np.ndarray, output_size: int,
              transform_size: int | None = None, enable_padding: bool = True) -> Image.Image:
    """Resample ``img`` through ``quad`` into an ``output_size`` square: shrink, crop, pad
    (blurred reflection), transform, then Lanczos down to ``output_size`` if
    ``transform_size`` is larger."""
    transform_size = transform_size or output_size
    quad = quad.astype(np.float64).copy()
    qsize = quad_side(quad)  # = 2·|x|

    shrink = int(np.floor(qsize / output_size * 0.5))
    if shrink > 1:
        rsize = (int(np.rint(img.width / shrink)), int(np.rint(img.height / shrink)))
        img = img.resize(rsize, Image.LANCZOS)
        quad /= shrink
        qsize /= shrink

    border = max(int(np.rint(qsize * 0.1)), 3)
    lo, hi = np.floor(quad.min(0)).astype(int), np.ceil(quad.max(0)).astype(int)
    crop = (max(lo[0] - border, 0), max(lo[1] - border, 0),
            min(hi[0] + border, img.width), min(hi[1] + border, img.height))
    if crop[2] - crop[0] < img.width or crop[3] - crop[1] < img.height:
        img = img.crop(crop)
        quad -= crop[:2]

    lo, hi = np.floor(quad.min(0)).astype(int), np.ceil(quad.max(0)).astype(int)
    pad = np.array([max(-lo[0] + border, 0), max(-lo[1] + border, 0),
                    max(hi[0] - img.width + border, 0), max(hi[1] - img.height + border, 0)])
    if enable_padding and pad.max() > border - 4:
        pad = np.maximum(pad, int(np.rint(qsize * 0.3)))
        img = _pad_blurred(img, pad, qsize)
        quad += pad[:2]

    img = img.transform((transform_size, transform_size), Image.QUAD, (quad + 0.5).flatten(),
                        Image.BILINEAR)
    if output_size < transform_size:
        img = img.resize((output_size, output_size), Image.LANCZOS)
    return img


def _pad_blurred(img: Image.Image, pad: np.ndarray, qsize: float) -> Image.Image:
    """Reflect-pad by ``pad`` (left, top, right, bottom), fading the padding into a blur and
    then the median colour, so the face's surroundings carry no hard mirror seams."""
    from scipy.ndimage import gaussian_filter

    a = np.pad(np.float32(img), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), "reflect")
    h, w, _ = a.shape
    yy, xx, _ = np.ogrid[:h, :w, :1]
    mask = np.maximum(1.0 - np.minimum(np.float32(xx) / pad[0], np.float32(w - 1 - xx) / pad[2]),
                      1.0 - np.minimum(np.float32(yy) / pad[1], np.float32(h - 1 - yy) / pad[3]))
    sigma = qsize * 0.02
    a += (gaussian_filter(a, [sigma, sigma, 0]) - a) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
    a += (np.median(a, axis=(0, 1)) - a) * np.clip(mask, 0.0, 1.0)
    return Image.fromarray(np.uint8(np.clip(np.rint(a), 0, 255)), "RGB")


def align_face(image: ImageSource, size: int = 256, transform_size: int | None = None,
               name: str | None = None, near: Box | None = None) -> AlignedFace:
    """Find the most confident face in ``image`` (or the one nearest the box ``near``) and align
    it FFHQ-style into a ``size`` square (256 for the encoders, 1024 for output). ``image`` is
    anything ``load_image`` reads."""
    check_size(size)
    loaded = load_image(image, name)
    faces = found_faces(loaded)
    if near is None:
        best = int(np.argmax([sc for _, sc in faces]))
    else:
        best = int(np.argmin([np.hypot(*(_centre(b) - _centre(near))) for b, _ in faces]))
    face = aligned_at(loaded, faces, best, size, transform_size)
    if face.people > 1 and near is None:
        left = 1 + sum(b[0] + b[2] < face.box[0] + face.box[2] for b, _ in faces)
        face.notes.insert(len(loaded.notes), f"{face.people} faces found in {loaded.name}; "
                          f"took face {left} from the left (the most confident)")
    return face


def check_size(size: int) -> None:
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer ≥ 8, got {size!r}")


def found_faces(loaded: LoadedImage) -> list[tuple[Box, float]]:
    """Every face dlib finds in the loaded photo (``detect_all_faces``), or a
    ``NoFaceError``."""
    faces = detect_all_faces(loaded.image)
    if not faces:
        raise NoFaceError(f"no face found in {loaded.name}; use a photo where the face is "
                          f"clearly visible, frontal, at least ~100 px")
    return faces


def aligned_at(loaded: LoadedImage, faces: list[tuple[Box, float]], k: int, size: int,
               transform_size: int | None = None, what: str | None = None) -> AlignedFace:
    """Face ``k`` of ``faces`` (``detect_faces``' of ``loaded``) aligned into a ``size``
    square, with the photo's notes and one for a face under half that size (``what``: how
    they name it, by default "the face in" the photo)."""
    box, score = faces[k]
    lm = landmarks_at(loaded.image, box)
    quad = ffhq_quad(lm)
    notes = list(loaded.notes)
    side = float(quad_side(quad))
    if side < size / 2:
        what = what or f"the face in {loaded.name}"
        notes.append(f"{what} is {side:.0f} px across; it was enlarged to {size} px, so its "
                     f"fine detail is the generator's guess (a larger photo of the face keeps "
                     f"more of it)")
    aligned = warp_quad(loaded.image, quad, size, transform_size)
    return AlignedFace(aligned, quad, lm, k, len(faces), score, box, notes, loaded.image,
                       sum(same_kind(f, faces[k]) for f in faces))


def align_track(frames: Sequence[Image.Image], size: int = 256,
                names: Sequence[str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[AlignedFace | None]:
    """Align one face through a sequence of frames: the most confident face of the first frame
    that has one, then in each later frame the face nearest the previous box (so a second
    person entering the clip is not picked up). ``None`` where a frame shows no face."""
    out: list[AlignedFace | None] = []
    box = None
    for i, frame in enumerate(frames):
        try:
            face = align_face(frame, size, name=names[i] if names else f"frame {i}", near=box)
            box = face.box
        except NoFaceError:
            face = None
        out.append(face)
        if progress:
            progress(i + 1, len(frames))
    return out
