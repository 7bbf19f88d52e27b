"""A published motion: one of the paper's five directions (``fields.PRESETS``), by name — the
source a request without any other names."""
from __future__ import annotations

from dataclasses import dataclass

from ..latents.direction import check_preset
from ..nets.models import Models
from ..latents.provenance import Published
from ..run import QUIET, Run
from .base import Anchored, Motion
from .source import Source, Words

# what each published motion does, in a person's words
DOES = {"smile": "smiles", "angry": "looks angry", "aging": "ages", "eyesClose": "closes its eyes",
        "headsTurn": "turns its head"}


@dataclass
class Preset(Motion):
    name: str

    def check(self, shape: tuple[int, int] | None = None) -> None:
        check_preset(self.name)

    def ready(self, models: Models, run: Run = QUIET) -> "Preset":
        models.preset(self.name)  # its file read (fetched) now: one missing fails before the
        return self  # faces are followed or inverted, not after

    def make(self, models: Models, run: Run = QUIET) -> Anchored:
        return models.preset(self.name), None


def words(made: Published, say: Words) -> tuple[str, str]:
    if made.preset:
        return DOES[made.preset], f"the published {made.preset} direction"
    return f"moves along the direction in {made.file}", made.file


SOURCE = Source("preset", "A published motion", ("micromotion",),
                motions=lambda req: [Preset(req.micromotion)], made=(Published,), words=words,
                cli="--micromotion", word=lambda req: req.micromotion, default=True)
