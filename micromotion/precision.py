"""What one request runs at, stage by stage: the render path (frames, previews, the encoder's
decodes), the encoder's arithmetic and the text anchors' path (forward and backward).
``plan.Plan.resolve`` makes one from a request's ``dtype`` after verifying each path on this
machine; the stages only follow it.

    precision = models.plan.resolve("auto")
    frames = precision.render.synthesis(generator, w)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from stylegan2.paths import DTYPES, RenderPath, autocast

# the generator's own pick of impl in float32 (fused on a CPU without gradients): what a
# stage runs when a caller of the Python API gives no precision
DEFAULT = RenderPath(None)


@dataclass(frozen=True)
class Precision:
    asked: str = "fp32"  # the request's dtype: auto, fp32 or bf16
    render: RenderPath = DEFAULT
    invert: str = "fp32"  # the encoder's arithmetic (stylegan2.paths.ROUNDOFF's names)
    anchors: RenderPath = DEFAULT
    note: str = ""  # what was chosen on this machine and why, for the doors

    def encoder_autocast(self, device: torch.device):
        """The encoder's arithmetic around its forward pass (none for float32)."""
        return autocast(device, DTYPES[self.invert])

    def anchors_autocast(self, device: torch.device):
        """The text anchors' arithmetic around the losses (CLIP, ArcFace; for float32 the
        path's TF32 setting)."""
        if self.anchors.dtype == torch.float32:
            return self.anchors.context(device)
        return autocast(device, self.anchors.dtype)


FP32 = Precision()
