"""Where a direction came from, typed: one small dataclass per way of making one. A direction
file keeps it as plain ``meta`` (strings, numbers, lists, dicts: ``direction.save_direction``),
so each type reads and writes that dict — ``to_meta`` and ``from_meta`` — in the keys files
have always had (``source`` names the type).

    made = FromText("a person with {degree} smile", ["no", "100%"], seed=0, steps=40, ...)
    from_meta(to_meta(made)) == made
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass
class Fit:
    """What robust PCA kept of the anchors: ``rank`` of ``anchors``, the share of their motion
    the low-rank part explains and the sparse part's, per W+ layer."""
    anchors: int
    rank: int
    explained_energy: list[float]
    sparse_energy: list[float]


@dataclass
class FromText:
    """CLIP-guided anchors of the face ``z(seed)`` over the template's degrees."""
    template: str
    degrees: list[str]
    seed: int
    steps: int
    loss_res: int | None
    final_losses: dict
    fit: Fit


@dataclass
class FromClip:
    """A clip's frames, inverted as anchors in time order (``times`` in seconds)."""
    file: str
    fps: float
    times: list[float]
    notes: list[str]
    fit: Fit


@dataclass
class FromLabels:
    """Labelled latents: the mean pair slope or a classifier's normal."""
    estimator: str
    n: int
    label_range: list[float]
    pairs_used: int | None = None
    c: float | None = None
    held_out_accuracy: float | None = None


@dataclass
class Published:
    """A published ``d_latent`` file (``preset``: its name among the five)."""
    file: str
    preset: str | None = None


@dataclass
class Given:
    """A tensor handed over from Python."""


@dataclass
class FromFile:
    """A direction file whose meta names no way we know: kept as it came."""
    file: str
    meta: dict = field(default_factory=dict)


@dataclass
class MadeCue:
    """One motion of a timeline, at its scale from ``start`` to ``end``: percent of the video,
    or frames where ``percent`` is False (``end`` None: the video's end)."""
    made: "Made"
    scale: float
    start: int
    end: int | None
    curve: str
    percent: bool = False  # files of before wrote frames


@dataclass
class Timeline:
    """Motions composed along the video (``timeline.composed_path``)."""
    cues: list[MadeCue]


Made = Union[FromText, FromClip, FromLabels, Published, Given, FromFile, Timeline]
SOURCES = {FromText: "text", FromClip: "video", FromLabels: "labels", Published: "d_latent",
           Given: "tensor", Timeline: "timeline"}  # the meta's ``source`` of each type


def to_meta(made: Made) -> dict:
    """The plain dict a direction file keeps (``fit`` flattened into it, as files had it)."""
    if isinstance(made, FromFile):
        return dict(made.meta)
    if isinstance(made, Timeline):
        return {"source": "timeline", "cues": [
            dict(to_meta(c.made), scale=c.scale, start=c.start, end=c.end, curve=c.curve,
                 percent=c.percent)
            for c in made.cues]}
    out = {"source": SOURCES[type(made)]}
    for f in dataclasses.fields(made):
        value = getattr(made, f.name)
        if isinstance(value, Fit):
            out.update(dataclasses.asdict(value))
        elif value is not None or f.name == "loss_res":
            out[f.name] = value
    return out


def from_meta(meta: dict, file: str = "a direction file") -> Made:
    """The typed view of a direction file's ``meta`` (``file``: what the file is called);
    meta of no known ``source`` (or missing what its source has) stays as it came."""
    source = meta.get("source")
    if "preset" in meta:
        return Published(meta.get("file", file), meta["preset"])
    if source == "timeline" and isinstance(meta.get("cues"), list):
        # files written before the cue's amount was called scale kept it as "strength"
        return Timeline([MadeCue(from_meta(c, file), c["scale" if "scale" in c else "strength"],
                             c["start"], c["end"], c["curve"], bool(c.get("percent")))
                         for c in meta["cues"]])
    kind = next((k for k, s in SOURCES.items() if s == source and k is not Timeline), None)
    try:
        return _build(kind, meta) if kind else FromFile(file, dict(meta))
    except (KeyError, TypeError):  # a file of ours from before a key was written
        return FromFile(file, dict(meta))


def _build(kind: type, meta: dict) -> Made:
    names = {f.name for f in dataclasses.fields(kind)}
    values: dict[str, Any] = {k: v for k, v in meta.items() if k in names and k != "fit"}
    if "fit" in names:
        values["fit"] = Fit(**{f.name: meta[f.name] for f in dataclasses.fields(Fit)})
    return kind(**values)
