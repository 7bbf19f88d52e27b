"""A motion described in words ("a person with {degree} smile"): CLIP-guided anchors of one
generated face over the template's degrees, and their low-rank direction (the paper's text
anchors)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .anchors import DEFAULT_DEGREES, TextAnchors, prompts_from_template, text_anchors
from ..latents.direction import Direction
from ..fields import FIELDS
from ..nets.models import Models
from ..latents.provenance import Fit, FromText
from ..run import QUIET, Run
from .base import Anchored, Motion, from_anchors
from .source import Source, Words


@dataclass
class TextMotion(Motion):
    """A motion described in words: anchors from CLIP."""
    template: str  # with {degree}, e.g. "a person with {degree} smile"
    degrees: Sequence[str] = DEFAULT_DEGREES
    seed: int = 0
    steps: int = FIELDS["steps"].default
    rank: int = FIELDS["rank"].default
    loss_res: int | None = FIELDS["loss_res"].default

    def check(self, shape: tuple[int, int] | None = None) -> None:
        from ..nets.clip_guidance import token_ids
        token_ids(prompts_from_template(self.template, self.degrees))

    def make(self, models: Models, run: Run = QUIET) -> Anchored:
        d, anchors = direction_from_text(models, self.template, self.degrees, self.seed,
                                         self.steps, self.rank, self.loss_res, run)
        return d, anchors.images

    def costs(self, unit: Any) -> list[tuple[str, float, str]]:
        steps = len(self.degrees) * self.steps
        return [("the text anchors", steps * unit.anchor_step(self.loss_res),
                 "use fewer degrees or steps, or fewer distinct text cues")]


def direction_from_text(models: Models, template: str, degrees: Sequence[str] = DEFAULT_DEGREES,
                        seed: int = 0, steps: int = 40, rank: int = 4,
                        loss_res: int | None = 256, run: Run = QUIET
                        ) -> tuple[Direction, TextAnchors]:
    """A direction ``[L, D]`` from CLIP-guided anchors of the face ``z(seed)`` over the
    template's degrees. ``loss_res``: the size of the early-exit image the losses see
    (``None``: full resolution). The run's preview sees the anchors as they form."""
    TextMotion(template, degrees).check()  # a bad template fails before loading CLIP
    FIELDS["anchor_seed"].check(seed, what="seed")
    FIELDS["steps"].check(steps)
    FIELDS["rank"].check(rank)
    res = None if loss_res is None else min(FIELDS["loss_res"].check(loss_res),
                                             models.generator.size)
    clip, arcface = models.text_models()
    a = text_anchors(models.generator, clip, arcface, template, degrees, seed, steps,
                     loss_res=res, precision=run.precision, progress=run.steps("anchors"),
                     preview=run.preview)
    return from_anchors(models, a.latents, rank, run, lambda fit: FromText(
        template, list(map(str, degrees)), seed, steps, res, a.final_losses, fit)), a


def of(req, template: str) -> TextMotion:
    """The words ``template`` with the request's anchor options."""
    return TextMotion(template, req.degrees, req.anchor_seed, req.steps, req.rank, req.loss_res)


def words(made: FromText, say: Words) -> tuple[str, str]:
    return (f"moves as the words say ({made.template!r})",
            f"words: {made.template!r}{fitted(made.fit)}")


def fitted(fit: Fit) -> str:
    """What robust PCA kept of the anchors, in words."""
    explained = fit.explained_energy  # per W+ layer
    return (f", from {fit.anchors} anchors at rank {fit.rank} (the low-rank part holds "
            f"{sum(explained) / len(explained):.0%} of their motion)")


SOURCE = Source("text", "Words", ("text_template", "anchor_seed", "degrees", "steps", "loss_res"),
                motions=lambda req: [of(req, req.text_template)], made=(FromText,),
                words=words, cli="--text-template", captions=lambda made: list(made.degrees),
                types={"degrees": "str | Sequence[str]"})
