"""Cog predictor (a thin door on ``micromotion.pipeline``). The Replicate inputs of the original
(``image``, ``micromotion``, ``scale``) keep their names, meaning and defaults; the output is an
mp4. ``MICROMOTION_SYNTHETIC=1`` runs on synthetic weights, ``MICROMOTION_WEIGHTS`` names the
weights folder. The full serving (more inputs, weight fetching, tests against the cog server)
comes with the serving issue."""
import tempfile
from pathlib import Path as _Path

import torch
from cog import BasePredictor, Input, Path

from micromotion.direction import PRESETS
from micromotion.pipeline import Micromotion
from micromotion.weights import synthetic_requested


class Predictor(BasePredictor):
    def setup(self) -> None:
        device = "cuda" if torch.cuda.is_available() else None
        self.mm = Micromotion.synthetic_models() if synthetic_requested() else Micromotion.load(device=device)

    def predict(self,
                image: Path = Input(description="a photo with a face"),
                micromotion: str = Input(description="the motion", choices=list(PRESETS),
                                         default="eyesClose"),
                scale: int = Input(description="strength of the motion", ge=1, le=10, default=5),
                ) -> Path:
        out = _Path(tempfile.mkdtemp()) / "output.mp4"
        return Path(self.mm.animate(str(image), micromotion, out, strength=scale))
