"""The faces of a group photo: found, numbered from left to right (as the page shows them), and
the ones a request's ``faces`` chooses — ``one`` (the most confident: one face, as ever), ``all``
or numbers such as ``1,3`` — each aligned the FFHQ way. A face too small for the encoder is
left alone with a note; a number that is not there is one sentence naming how many there are;
all of it before any inversion.

    group = find("family.jpg")                       # .faces: boxes left to right
    chosen, notes = pick(group, parse_faces("1,3"))  # [AlignedFace, AlignedFace]
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ..errors import NoFaceError, OptionError
from ..fields import FIELDS, MAX_FACES
from .align import (AlignedFace, Box, aligned_at, check_size, crop_side, found_faces,
                    quad_side)
from .images import ImageSource, LoadedImage, load_image
from ..naming import listed

CONFIDENT = 0.5  # a detection at least this share of the best one's score is a person's face
# (dlib's faint false finds — a badge, a pattern — score about a tenth of a face's)
SMALLEST = 0.25  # of the encoder's size: a face's crop below it is left alone (it would be
# enlarged more than 4× and be mostly the generator's guess)

Faces = str | list[int]  # "one", "all", or the chosen faces' numbers (1 = the leftmost)


def most_faces() -> int:
    """The most faces one request moves: ``MICROMOTION_FACES`` where the operator set it, else
    ``MAX_FACES``."""
    value = os.environ.get("MICROMOTION_FACES", "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else MAX_FACES


def parse_faces(text: str | Faces) -> Faces:
    """``faces`` as a request gives it → ``"one"`` (also for nothing given), ``"all"`` or its
    numbers (sorted, each once, at most ``most_faces()``), or an ``OptionError`` saying what
    it takes."""
    if isinstance(text, (list, tuple)):
        text = ",".join(map(str, text))
    text = (FIELDS["faces"].check(text, optional=True) or "").strip().lower() or "one"
    if text in ("one", "all"):
        return text
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and len(p) <= 4 and int(p) >= 1 for p in parts):
        raise OptionError(f"faces must be one, all or face numbers such as 1,3 (numbered from "
                          f"left to right from 1), got {text[:40]!r}")
    numbers = sorted(set(map(int, parts)))
    if len(numbers) > most_faces():
        raise OptionError(f"faces names {len(numbers)} faces; at most {most_faces()} move in "
                          f"one request here")
    return numbers


@dataclass
class Group:
    """A photo's faces: ``faces`` (box, score), the confident ones, left to right (face k is
    ``faces[k - 1]``)."""
    photo: LoadedImage
    faces: list[tuple[Box, float]]

    @property
    def name(self) -> str:
        return self.photo.name


def find(image: ImageSource, name: str | None = None) -> Group:
    """The photo's faces, numbered from left to right by their boxes' centres (a
    ``NoFaceError`` where there is none). A photo file's are kept for the next call (a
    request's budget counts them, then its use case moves them)."""
    loaded = load_image(image, name)
    key = _file_key(image)
    found = _FOUND.get(key) if key else None
    if found is None:
        found = found_faces(loaded)
        if key:
            _FOUND.clear()  # the last file's alone: a request's
            _FOUND[key] = found
    return Group(loaded, people(found))


def people(found: list[tuple[Box, float]]) -> list[tuple[Box, float]]:
    """The confident ones of a frame's detections, numbered: from left to right by their
    boxes' centres."""
    best = max(score for _, score in found)
    return sorted([f for f in found if f[1] >= CONFIDENT * best],
                  key=lambda f: (f[0][0] + f[0][2], f[0][1]))


def chosen(count: int, faces: Faces, name: str) -> list[int]:
    """The numbers ``faces`` (``all`` or numbers) chooses among ``count`` faces of ``name``,
    or an ``OptionError`` naming how many there are."""
    numbers = list(range(1, count + 1)) if faces == "all" else faces
    missing = [k for k in numbers if k > count]
    if missing:
        raise OptionError(f"faces {listed(missing)}: {name} has " + (
            f"{count} faces, numbered 1 to {count} from left to right" if count > 1 else
            "only 1 face"))
    return numbers


_FOUND: dict[tuple, list[tuple[Box, float]]] = {}


def _file_key(image: ImageSource) -> tuple | None:
    """A photo file's path, size and time (an edited file is read anew); None for others."""
    if not isinstance(image, (str, os.PathLike)):
        return None
    try:
        stat = os.stat(image)
    except (OSError, ValueError):
        return None
    return os.path.realpath(image), stat.st_size, stat.st_mtime_ns


def pick(group: Group, faces: Faces, size: int = 256, hint: bool = False
         ) -> tuple[list[AlignedFace], list[str]]:
    """The faces ``faces`` chooses, aligned into ``size`` squares (the encoder's), in number
    order, and the notes that say which moved and which were left alone, and why (``hint``:
    for one face of several, how to move the others)."""
    check_size(size)
    count = len(group.faces)
    if faces == "one":
        k = int(np.argmax([score for _, score in group.faces]))
        face = aligned_at(group.photo, group.faces, k, size)
        if count > 1:
            face.notes.append(f"{count} faces are in {group.name}; face {k + 1} moved (the "
                              f"most confident, numbered from the left)" +
                              ("; faces all moves every one, or name them, e.g. faces 1,3"
                               if hint else ""))
        return [face], []
    numbers = chosen(count, faces, group.name)
    # each face's size from its landmarks alone: only the faces that move are warped (a
    # crowd's sixty, each a pass over the whole photo, took seconds)
    sides = [crop_side(group.photo.image, group.faces[k - 1][0]) for k in numbers]
    moved, notes = _moved(group, numbers, sides, size, faces == "all")
    return [aligned_at(group.photo, group.faces, k - 1, size, what=f"face {k} in {group.name}")
            for k in moved], notes


def _moved(group: Group, numbers: list[int], sides: list[float], size: int, every: bool
           ) -> tuple[list[int], list[str]]:
    """Of the faces ``numbers`` (their crops ``sides`` px across), those big enough to move
    (the largest ``most_faces()`` of them for ``all``), and the notes on those left alone."""
    small = [k for k, s in zip(numbers, sides) if s < SMALLEST * size]
    kept = [(k, s) for k, s in zip(numbers, sides) if k not in small]
    notes = [left_small(small, group.name, size)] if small else []
    if not kept:
        raise all_small(group.name, size, "a larger photo of them")
    most = most_faces()
    if every and len(kept) > most:
        kept = [kept[i] for i in largest([side for _, side in kept])]
        rest = sorted(set(numbers) - set(small) - {k for k, _ in kept})
        largest_ones = f"{most} largest" if most > 1 else "largest"
        notes.append(f"at most {_count(most)} {'move' if most > 1 else 'moves'} in one request "
                     f"here: the {largest_ones} moved, {named(rest)} "
                     f"{'were' if len(rest) > 1 else 'was'} left alone")
    moved = [k for k, _ in kept]
    notes.insert(0, moved_note(len(group.faces), group.name, moved))
    return moved, notes


def moved_note(count: int, name: str, moved: list[int]) -> str:
    """The note on which of the ``count`` faces of ``name`` (a photo, a clip's frame) moved."""
    return f"{_count(count)} in {name} (numbered from the left); {named(moved)} moved"


def left_small(small: list[int], name: str, size: int) -> str:
    """The note on the faces ``small`` of ``name``, left alone: too small for an encoder of
    ``size``."""
    return (f"{named(small)} of {name} "
            f"{'were' if len(small) > 1 else 'was'} left alone: under {SMALLEST * size:.0f} "
            f"px across, too small for the encoder")


def all_small(name: str, size: int, instead: str) -> NoFaceError:
    """Every chosen face of ``name`` too small for an encoder of ``size``: what to use
    ``instead``."""
    return NoFaceError(f"the chosen faces of {name} are all under {SMALLEST * size:.0f} px "
                       f"across, too small to move: use {instead}")


ALIKE = 1.05  # sizes this near one another are one size: which of a row of alike faces moves


def largest(sizes: list[float]) -> list[int]:
    """The indices of the ``most_faces()`` largest ``sizes``, in their own order: which faces
    ``all`` moves where there are more. Among sizes alike (within ``ALIKE``) at the cut, the
    first ones: a crowd of alike faces moves from the left, not as the detector's pixels fall
    (faces 7, 16, 20 … of sixty alike)."""
    most = most_faces()
    if len(sizes) <= most:
        return list(range(len(sizes)))
    cut = sorted(sizes, reverse=True)[most - 1]
    sure = [i for i, s in enumerate(sizes) if s > cut * ALIKE]
    near = [i for i, s in enumerate(sizes) if cut / ALIKE <= s <= cut * ALIKE]
    return sorted(sure + near[:most - len(sure)])


def face_side(face: AlignedFace) -> float:
    """How many px across the face's FFHQ crop is in its photo."""
    return float(quad_side(face.quad))


def numbered(group: Group, most_side: int = 768) -> Image.Image:
    """The photo with each face's box and number drawn on it, at most ``most_side`` px a side:
    what the page shows at once after an upload."""
    img = group.photo.image
    scale = min(1.0, most_side / max(img.size))
    shown = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                       Image.BILINEAR) if scale < 1 else img.copy()
    draw = ImageDraw.Draw(shown)
    line = max(2, round(max(shown.size) / 300))
    for k, (box, _) in enumerate(group.faces, 1):
        x0, y0, x1, y1 = (v * scale for v in box)
        draw.rectangle((x0, y0, x1, y1), outline=(255, 210, 0), width=line)
        tall = max(12, round((y1 - y0) * 0.35))
        draw.rectangle((x0, y0 - tall - line, x0 + tall * 0.8 + 2 * line, y0), fill=(255, 210, 0))
        draw.text((x0 + line, y0 - tall - line / 2), str(k), fill=(0, 0, 0),
                  font_size=tall)
    return shown


def named(numbers: list[int]) -> str:
    """"face 2", "faces 1–4 and 6"."""
    return f"{'face' if len(numbers) == 1 else 'faces'} {listed(numbers)}"


def _count(n: int) -> str:
    return f"{n} face" if n == 1 else f"{n} faces"
