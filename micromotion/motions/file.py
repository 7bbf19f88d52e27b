"""A direction file made before (``python -m micromotion direction``, or the page's "The
direction, to use again") — or, from Python, a ``Direction`` or an ``[L, D]`` tensor."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from ..latents.direction import Direction, load_direction
from ..nets.models import Models
from ..naming import display_name, own_stem
from ..latents.provenance import FromFile, Given
from ..run import QUIET, Run
from .base import Anchored, Motion
from .source import Source, Words


@dataclass
class DirectionFile(Motion):
    file: str | os.PathLike | Direction | torch.Tensor
    name: str = "the direction file"

    def check(self, shape: tuple[int, int] | None = None) -> None:
        if isinstance(self.file, (str, os.PathLike)):
            load_direction(self.file, *(shape or ()), name=self.name)

    def make(self, models: Models, run: Run = QUIET) -> Anchored:
        if isinstance(self.file, Direction):
            return models.checked(self.file), None
        if isinstance(self.file, torch.Tensor):
            return models.checked(Direction(self.file.detach().float(), Given())), None
        return models.checked(load_direction(self.file, name=self.name)), None


def words(made: FromFile | Given, say: Words) -> tuple[str, str]:
    if isinstance(made, Given):
        return "moves along the given direction", "a direction given as a tensor"
    return f"moves along the direction in {made.file}", made.file


def _word(req) -> str:
    """The file's own name (``frown`` for frown.pt), where the door knows one."""
    return own_stem(req, "direction_file") or "direction"


SOURCE = Source("file", "A direction file", ("direction_file",),
                motions=lambda req: [DirectionFile(req.direction_file,
                                                   display_name(req, "direction_file"))],
                made=(FromFile, Given), words=words, cli="--direction-file",
                types={"direction_file": "Any"}, word=_word)
