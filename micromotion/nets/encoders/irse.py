"""The IR-SE50 trunk the pSp-family encoders and ArcFace share, and ArcFace itself (the
identity features of ``model_ir_se50.pth``; ``../shared/reference/FORMATS.md`` §4, 5)."""
from __future__ import annotations

import os
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

import stylegan2

from ...errors import EncoderCheckpointError

STAGES = (3, 4, 14, 3)  # IR-SE50 units per stage; the first unit of each has stride 2
DEPTHS = (64, 128, 256, 512)


class SEModule(nn.Module):
    """Squeeze-and-excitation: channel gates from the global average."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(s))))


class Subsample(nn.Module):
    """``x[:, :, ::s, ::s]``: what the reference's ``MaxPool2d(1, s)`` shortcut computes, without
    the pooling kernel's cost. Like it, it has no state-dict keys."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, ::self.stride, ::self.stride]


class BottleneckIRSE(nn.Module):
    """BN → 3×3 conv → PReLU → 3×3 conv (stride s) → BN → SE, plus a shortcut."""

    def __init__(self, in_ch: int, depth: int, stride: int):
        super().__init__()
        if in_ch == depth:
            self.shortcut_layer = Subsample(stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(in_ch, depth, 1, stride, bias=False),
                                                nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_ch), nn.Conv2d(in_ch, depth, 3, 1, 1, bias=False), nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False), nn.BatchNorm2d(depth),
            SEModule(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def ir_se50_body() -> nn.Sequential:
    """The 24 units ``body.0-23``: 64×3, 128×4, 256×14, 512×3 channels; 1/16 resolution out."""
    units, in_ch = [], 64
    for n, depth in zip(STAGES, DEPTHS):
        units += [BottleneckIRSE(in_ch, depth, 2)] + [BottleneckIRSE(depth, depth, 1)
                                                      for _ in range(n - 1)]
        in_ch = depth
    return nn.Sequential(*units)


def input_layer(channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
                         nn.PReLU(64))


class ArcFace(nn.Module):
    """IR-SE50 ArcFace (``model_ir_se50.pth``): ``[N, 3, 112, 112]`` → unit 512-d features."""

    def __init__(self, drop_ratio: float = 0.6):
        super().__init__()
        self.input_layer = input_layer(3)
        # registered before body, as in the official file's key order
        self.output_layer = nn.Sequential(nn.BatchNorm2d(512), nn.Dropout(drop_ratio),
                                          nn.Flatten(), nn.Linear(512 * 7 * 7, 512),
                                          nn.BatchNorm1d(512))
        self.body = ir_se50_body()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.output_layer(self.body(self.input_layer(x)))
        return x / x.norm(dim=1, keepdim=True)

    def id_features(self, images: torch.Tensor) -> torch.Tensor:
        """Generator output ``[N, 3, H, W]`` in [-1, 1] → features ``[N, 512]``, prepared as
        StyleCLIP's identity loss does: pool to 256, crop the face [35:223, 32:220], pool to 112."""
        if images.shape[-1] != 256:
            images = F.adaptive_avg_pool2d(images, 256)
        return self(F.adaptive_avg_pool2d(images[:, :, 35:223, 32:220], 112))


def load_arcface(source: str | os.PathLike | Mapping) -> ArcFace:
    """IR-SE50 ArcFace from ``model_ir_se50.pth`` (a bare state dict), strictly, in eval mode."""
    name = str(source) if isinstance(source, (str, os.PathLike)) else "ArcFace state dict"
    try:
        state = stylegan2.read_checkpoint(source) if isinstance(source, (str, os.PathLike)) \
            else dict(source)
        net = ArcFace()
        stylegan2.checkpoint.load_state_strict(net, state, f"{name} (IR-SE50 ArcFace)")
    except stylegan2.CheckpointError as exc:
        raise EncoderCheckpointError(str(exc)) from exc
    return net.eval().requires_grad_(False)
