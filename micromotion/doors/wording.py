"""The words the doors say of a result: ``plainly`` (what the video shows, in a person's words)
and ``describe`` (how it was made, the details), each one function per result type, and a
direction's provenance (``describe_direction``, ``anchor_captions``).

    print(plainly(result))   # "The face smiles; the motion is mostly in the middle layers …"
    print(describe(result))  # "the published smile direction"
"""
from __future__ import annotations

import functools

import torch

from ..latents.direction import Direction
from ..nets.identity import LOOK_ALIKE, Identity
from ..stages.results import (Animation, Edited, LatentAnimation, MovedFace, Result,
                              Transferred)
from ..motions import made_by
from ..media.faces import named
from ..naming import listed
from ..latents.provenance import FromLabels, Timeline
# StyleGAN's W+ layers by what they hold (FFHQ's 18: 4² to 1024²)
LAYER_GROUPS = (("coarse", range(0, 4), "pose and face shape"),
                ("middle", range(4, 8), "expression and features"),
                ("fine", range(8, 32), "colour and texture"))
LATENT_KINDS = {"walk": "a walk", "coarse": "coarse style mixing", "fine": "fine style mixing",
                "circle": "an equal-step circle"}


@functools.singledispatch
def describe(result) -> str:
    """How a result was made, in words, for the doors."""
    raise TypeError(f"not a result: {type(result).__name__}")


@describe.register
def _(result: Animation) -> str:
    return describe_direction(result.direction)


@describe.register
def _(result: Transferred) -> str:
    h = result.how
    return (f"the motion of {h.driver}, {h.frames} frames at {h.fps:g} fps, moves W+ layers "
            f"{_ranges(h.layers)} (they hold {sum(h.energy[i] for i in h.layers):.0%} of it; "
            f"rank {h.rank})")


@describe.register
def _(result: LatentAnimation) -> str:
    h = result.how
    keys = ([f"seeds {_few(h.seeds)}"] if h.seeds else []) + (
        [f"{h.photos} photo(s)"] if h.photos else [])
    return f"{LATENT_KINDS[h.kind]} through {' and '.join(keys) or 'the held face'}, " \
        f"{h.frames} frames" + (f"; steps within {h.circle.spread:.2f}× of each other"
                                if h.circle else "")


@describe.register
def _(result: Edited) -> str:
    h = result.how
    return (f"{describe_direction(result.direction)}, in {h.video} from {h.start:.1f} s to "
            f"{h.end:.1f} s ({h.moved} of its {h.frames} frames at {h.fps:.4g} fps; blend "
            f"{h.blend}; the crop's shake {h.jitter[0]:.2f} → {h.jitter[1]:.2f} px/frame² "
            f"steadied)")


def plainly(result: Result) -> str:
    """What the video shows, in a person's words (``describe`` has the details), e.g. "The
    face smiles; the motion is mostly in the middle layers (expression and features)", and
    how alike the photo's face (each face, where several moved) it stayed."""
    faces = getattr(result, "faces", [])
    shows = _shows(result, f"Each of faces {listed([f.number for f in faces])}"
                   if len(faces) > 1 else "The face")
    alike = _alike_of(result)
    return f"{shows} {alike}" if alike else shows


def said(result: Result) -> str:
    """A result as a log says it, a person's words first: what the video shows, what was
    chosen for the user (``note: …``), then how it was made and the paths it ran on."""
    return "\n".join([plainly(result), *(f"note: {n}" for n in result.notes),
                      f"made with {describe(result)}", *(f"note: {d}" for d in result.details)])


@functools.singledispatch
def _alike_of(result) -> str:
    """How alike the face (each face) stayed, in words; "" where it was not measured."""
    faces, tuned = getattr(result, "faces", []), getattr(result, "tuning", None) is not None
    if len(faces) > 1:
        return _alike_each(faces, tuned) if faces[0].identity else ""
    return _alike(result.identity, tuned) if result.identity else ""


@_alike_of.register
def _(result: Edited) -> str:
    """A clip's faces as filmed and as edited: what the video shows (blend face puts in the
    face rebuilt from the filmed one: its likeness is said too)."""
    faces = [f for f in result.faces if f.identity]
    if not faces:
        return ""
    rebuilt = result.how.blend == "face"
    if len(faces) == 1:
        i = faces[0].identity
        said = (f"Identity as filmed and as edited, at the first, middle and last moved "
                f"frames: {', '.join(f'{c:.2f}' for c in i.frames)} (ArcFace; 1: the same "
                f"face)" + (f"; the face rebuilt from the filmed one {i.reconstruction:.2f}."
                            if rebuilt else "."))
    else:
        said = ("Identity as filmed and as edited, face by face (the least of its first, "
                "middle and last moved frames): " + ", ".join(
                    f"{f.number}: {min(f.identity.frames):.2f}" for f in faces) +
                " (ArcFace; 1: the same face).")
    low = [f.number for f in faces if min(f.identity.frames) < LOOK_ALIKE]
    if low:
        who = "the edited face looks" if len(faces) == 1 else f"{named(low)} {_verb(low, 'look')}"
        said += (f" Below {LOOK_ALIKE:.2f}, {who} less like the person" +
                 ("; blend change keeps the person's own pixels where the motion does nothing, "
                  "fidelity faithful tunes the generator to them." if rebuilt else
                  "; a smaller scale moves less."))
    return said


def _alike(identity: Identity, tuned: bool) -> str:
    """The identity's figures in words; below ``LOOK_ALIKE`` a warning, and what helps."""
    frames = ", ".join(f"{c:.2f}" for c in identity.frames)
    frames = f"; the video's first, middle and last frames {frames}" if frames else ""
    by = " by the tuned generator" if tuned else ""
    said = (f"Identity {identity.reconstruction:.2f}: how alike ArcFace finds the photo's face "
            f"and the face rebuilt from it{by} (1: the same face{frames}).")
    if identity.reconstruction < LOOK_ALIKE:
        said += f" Below {LOOK_ALIKE:.2f} the video shows a look-alike more than this person" + (
            "." if tuned else "; fidelity faithful tunes the generator to this photo.")
    return said


def _verb(numbers: list[int], verb: str) -> str:
    """The verb agreeing with the faces named: "face 2 shows", "faces 1–3 show"."""
    return f"{verb}s" if len(numbers) == 1 else verb


def _alike_each(faces: list[MovedFace], tuned: bool) -> str:
    """Each moved face's identity in one sentence; below ``LOOK_ALIKE`` a warning naming it."""
    by = " by the tuned generator" if tuned else ""
    said = ("Identity, face by face: " + ", ".join(
        f"{f.number}: {f.identity.reconstruction:.2f}" for f in faces) +
        f" (how alike ArcFace finds each face in the photo and the face rebuilt from it{by}; "
        f"1: the same face).")
    low = [f.number for f in faces if f.identity.reconstruction < LOOK_ALIKE]
    if low:
        said += (f" Below {LOOK_ALIKE:.2f}, {named(low)} {_verb(low, 'show')} a look-alike more "
                 f"than the person" +
                 ("." if tuned else "; fidelity faithful tunes the generator to them."))
    return said


@functools.singledispatch
def _shows(result, who: str) -> str:
    """What the video shows; ``who`` moves: "The face", "Each of faces 1 and 3"."""
    raise TypeError(f"not a result: {type(result).__name__}")


@_shows.register
def _(result: Animation, who: str) -> str:
    return f"{who} {_does(result.direction.made)}; {_where(result.direction.vector)}."


@_shows.register
def _(result: Transferred, who: str) -> str:
    h = result.how
    return f"{who} performs the motion of {h.driver} at its timing ({h.frames} frames at " \
        f"{h.fps:g} fps)."


@_shows.register
def _(result: Edited, who: str) -> str:
    h = result.how
    return f"{who} in {h.video} {_does(result.direction.made)} from {h.start:.1f} s to " \
        f"{h.end:.1f} s; the rest of the video is as filmed."


@_shows.register
def _(result: LatentAnimation, who: str) -> str:
    how = describe(result)
    return how[0].upper() + how[1:] + "."


def _where(vector: torch.Tensor) -> str:
    """Which group of W+ layers holds most of a direction ``[L, D]``'s length."""
    energy = vector.float().pow(2).sum(-1)
    shares = [(float(energy[rows.start:rows.stop].sum()), name, holds)
              for name, rows, holds in LAYER_GROUPS]
    share, name, holds = max(shares)
    return f"the motion is mostly in the {name} layers ({holds})" if share > 0 else \
        "the direction is zero: nothing moves"


def describe_direction(d: Direction) -> str:
    """Where a direction came from, in words: "the published smile direction", "words: …,
    from 11 anchors at rank 4 (…)"."""
    return _words(d.made)[1]


def _does(made) -> str:
    """What a direction made this way makes the face do: "smiles"."""
    return _words(made)[0]


def _words(made) -> tuple[str, str]:
    """(what a direction made this way (``provenance``) makes the face do, where it came
    from): its source's words (``motions.SOURCES``), or labelled latents'."""
    source = made_by(made)
    if source is not None:
        return source.words(made, _words)
    if isinstance(made, FromLabels):
        return ("moves along the direction learnt from labelled latents",
                f"labelled latents ({made.n}, {made.estimator})")
    return f"moves along the direction in {made.file}", made.file  # FromFile


def anchor_captions(d: Direction) -> list[str]:
    """One caption per anchor image of an animation, in order: the degree of a text anchor,
    the time of a clip's frame (a timeline's motions in turn)."""
    made = [c.made for c in d.made.cues] if isinstance(d.made, Timeline) else [d.made]
    return [caption for m in made if made_by(m) for caption in made_by(m).captions(m)]


def _few(items: list, most: int = 8) -> str:
    """A list in words, kept short for a log line: "1, 2, 3, … (300 in all)"."""
    shown = ", ".join(map(str, items[:most]))
    return shown if len(items) <= most else f"{shown}, … ({len(items)} in all)"


def _ranges(layers: list[int]) -> str:
    """[0, 1, 2, 5] → "0–2, 5"."""
    out, start = [], None
    for i, k in enumerate(layers):
        start = k if start is None else start
        if i + 1 == len(layers) or layers[i + 1] != k + 1:
            out.append(str(k) if start == k else f"{start}–{k}")
            start = None
    return ", ".join(out)
