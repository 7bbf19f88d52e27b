"""The words the doors say of a result: ``plainly`` (what the video shows, in a person's words)
and ``describe`` (how it was made, the details), each one function per result type, and a
direction's provenance (``describe_direction``, ``anchor_captions``).

    print(plainly(result))   # "The face smiles; the motion is mostly in the middle layers …"
    print(describe(result))  # "the published smile direction"
"""
from __future__ import annotations

import functools

import torch

from .direction import Direction
from .pipeline import Animation, LatentAnimation, Transferred

# what each published motion does, in a person's words
DOES = {"smile": "smiles", "angry": "looks angry", "aging": "ages", "eyesClose": "closes its eyes",
        "headsTurn": "turns its head"}
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


@functools.singledispatch
def plainly(result) -> str:
    """What the video shows, in a person's words (``describe`` has the details), e.g. "The
    face smiles; the motion is mostly in the middle layers (expression and features)"."""
    raise TypeError(f"not a result: {type(result).__name__}")


@plainly.register
def _(result: Animation) -> str:
    return f"The face {_does(result.direction.meta)}; {_where(result.direction.vector)}."


@plainly.register
def _(result: Transferred) -> str:
    h = result.how
    return f"The face performs the motion of {h.driver} at its timing ({h.frames} frames at " \
        f"{h.fps:g} fps)."


@plainly.register
def _(result: LatentAnimation) -> str:
    how = describe(result)
    return how[0].upper() + how[1:] + "."


def _does(m: dict) -> str:
    """What a direction of provenance ``m`` (``Direction.meta``) makes the face do."""
    if m.get("source") == "timeline":
        return ", then ".join(_does(c) for c in m["cues"])
    if "preset" in m:
        return DOES[m["preset"]]
    return {"text": f"moves as the words say ({m.get('template', '')!r})",
            "video": f"moves as the face in {m.get('file', 'the clip')} does",
            "tensor": "moves along the given direction"}.get(
        m.get("source"), f"moves along the direction in {m.get('file', 'the file')}")


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
    m = d.meta
    if m.get("source") == "timeline":
        return "a timeline of " + "; ".join(
            f"{describe_direction(Direction(d.vector, c))} at strength {c['strength']:g} "
            f"from frame {c['start']}" for c in m["cues"])
    if "preset" in m:
        return f"the published {m['preset']} direction"
    what = {"d_latent": m.get("file", "a direction file"),
            "text": f"words: {m.get('template', '')!r}",
            "video": f"the clip {m.get('file', '')}",
            "tensor": "a direction given as a tensor"}.get(m.get("source"), "a direction file")
    if "anchors" in m:
        explained = m["explained_energy"]  # per W+ layer
        what += (f", from {m['anchors']} anchors at rank {m['rank']} (the low-rank part holds "
                 f"{sum(explained) / len(explained):.0%} of their motion)")
    return what


def anchor_captions(d: Direction) -> list[str]:
    """One caption per anchor image of an animation, in order: the degree of a text anchor,
    the time of a clip's frame (a timeline's motions in turn)."""
    metas = d.meta["cues"] if d.meta.get("source") == "timeline" else [d.meta]
    out = []
    for m in metas:
        if m.get("source") == "text":
            out += [f"{deg}" for deg in m["degrees"]]
        elif m.get("source") == "video":
            out += [f"{t:.2f} s" for t in m["times"]]
    return out


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
