"""Cog predictor (thin door). For now it renders the face of a seed; the micromotion inputs
(photo, motion, scale) arrive with the serving issue."""
import tempfile
from pathlib import Path as _Path

import torch
from cog import BasePredictor, Input, Path
from PIL import Image

from micromotion.models import load_default_generator
from micromotion.samples import render_seeds


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.generator = load_default_generator("cuda" if torch.cuda.is_available() else None)

    def predict(self, seed: int = Input(description="face seed", default=0, ge=0, le=2**31 - 1),
                truncation: float = Input(description="truncation ψ", default=0.7, gt=0, le=1),
                ) -> Path:
        image = render_seeds(self.generator, [seed], truncation)[0]
        out = _Path(tempfile.mkdtemp()) / f"seed{seed}.png"
        Image.fromarray(image).save(out)
        return Path(out)
