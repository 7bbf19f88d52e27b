"""What a motion source declares: everything the request, the checks, the doors and the words
need of it, in one place. Each source is one module of this package ending in ``SOURCE =
Source(...)``; ``motions.SOURCES`` lists them, and everything else reads that list.

    Source("text", "Words", ("text_template", "anchor_seed", ...), cli="--text-template",
           motions=lambda req: [TextMotion(...)], made=(FromText,), words=...)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..latents.direction import Direction
from ..naming import given
from ..media.render import latent_path

Words = Callable[[Any], tuple[str, str]]  # provenance → (what it makes a face do, its source)


def single_path(req, w: torch.Tensor, made: list[Direction]) -> tuple[torch.Tensor, Direction]:
    """The one motion's path: ``w [1, L, D]`` + the curve's share of ``scale · d`` → W+
    ``[frames, L, D]``, and the direction it followed."""
    d = made[0]
    return latent_path(w, d.vector.to(w.device), req.scale, req.frames, req.curve), d


@dataclass(frozen=True)
class Source:
    """One motion source of an animation.

    ``key``: its one word — the page's choice, its widgets' group (``fields.Field.page``),
    the output file's word; ``label``: the page's choice in words; ``fields``: the request's
    inputs it reads (``fields.FIELDS``), the first the one that names it; ``types``: their
    Python types where the API takes more than the doors' text; ``cli``: how an error names
    it to the CLI; ``motions(req)``: the motions it names (``base.Motion``), each checked and
    made alone; ``path(req, w, directions)``: the W+ path they make; ``made``: the provenance
    types its directions carry, ``words(made, say)`` how a person says one (``say``: the
    words of any other, for the motions it holds) and ``captions(made)`` its anchors'
    captions; ``word(req)``: the output file's word where not ``key``."""
    key: str
    label: str
    fields: tuple[str, ...]
    motions: Callable[[Any], list]
    made: tuple[type, ...]
    words: Callable[[Any, Words], tuple[str, str]]
    cli: str = ""
    types: dict[str, str] = field(default_factory=dict)
    path: Callable[..., tuple[torch.Tensor, Direction]] = single_path
    captions: Callable[[Any], list[str]] = lambda made: []
    word: Callable[[Any], str] | None = None
    default: bool = False  # the source a request without any other names
    timed: bool = False  # its path says when each motion moves (a timeline's cues): a video
    # edit then follows it over the clip's frames, not its span

    def given(self, req) -> bool:
        """Whether ``req`` names this source (its first field given)."""
        return given(getattr(req, self.fields[0]))

    def file_word(self, req) -> str:
        """The output file's word for a request moved by this source."""
        return self.word(req) if self.word else self.key
