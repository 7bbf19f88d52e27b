"""LPIPS v0.1 on AlexNet (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as
a Perceptual Metric"): how different two images look, 0 for the same image. Pivotal tuning
(``fidelity faithful``) minimises it with L2.

The distance between images ``a`` and ``b`` ``[N, 3, H, W]`` in [-1, 1]:

    x ← (x − shift) / scale                       # the scaling layer, per channel
    f_k = AlexNet's k-th conv stage after its ReLU, k = 1 … 5 (64, 192, 384, 256, 256 channels)
    d = Σ_k mean_hw( w_k · (f_k(a)/‖f_k(a)‖ − f_k(b)/‖f_k(b)‖)² )   # unit norm over channels,
                                                  # a 1×1 linear w_k ≥ 0 without bias

Weights: AlexNet's convolutions from torchvision's ``alexnet-owt-7be5be79.pth`` (a bare state
dict, ``features.{0,3,6,8,10}``; its classifier is not used, but its keys are known), the linear
layers from LPIPS's ``v0.1/alex.pth`` (``lin{k}.model.1.weight`` ``[1, C, 1, 1]``). Both are in
the weights manifest; ``synthetic_states`` makes seeded ones of the same layouts.
"""
from __future__ import annotations

import os
from typing import Mapping

import torch
from torch import nn

import stylegan2

# torchvision's AlexNet: (index in ``features``, in, out, kernel, stride, padding)
CONVS = ((0, 3, 64, 11, 4, 2), (3, 64, 192, 5, 1, 2), (6, 192, 384, 3, 1, 1),
         (8, 384, 256, 3, 1, 1), (10, 256, 256, 3, 1, 1))
CLASSIFIER = {"classifier.1.weight": (4096, 9216), "classifier.1.bias": (4096,),
              "classifier.4.weight": (4096, 4096), "classifier.4.bias": (4096,),
              "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,)}
SHIFT = (-0.030, -0.088, -0.188)  # LPIPS's scaling layer, per RGB channel
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10  # LPIPS's ``normalize_tensor``


class AlexNetStages(nn.Module):
    """AlexNet's five conv stages, keyed as torchvision's ``features``: ``[N, 3, H, W]`` →
    the five maps after each ReLU (max-pools before stages 2, 3, as LPIPS slices them)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential()
        for i, c_in, c_out, k, stride, pad in CONVS:
            if i in (3, 6):
                self.features.add_module(str(i - 1), nn.MaxPool2d(3, 2))
            self.features.add_module(str(i), nn.Conv2d(c_in, c_out, k, stride, pad))
            self.features.add_module(str(i + 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                out.append(x)
        return out


class LPIPS(nn.Module):
    """``lpips(a, b)``: images ``[N, 3, H, W]`` in [-1, 1] → distances ``[N]``. Its weights
    never train; gradients flow to the images."""

    def __init__(self):
        super().__init__()
        self.net = AlexNetStages()
        self.lins = nn.ModuleList(nn.Conv2d(c_out, 1, 1, bias=False) for *_, c_out, _, _, _ in
                                  CONVS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        n = a.shape[0]
        feats = self.net((torch.cat([a, b.expand_as(a)]) - self.shift) / self.scale)
        total = a.new_zeros(n)
        for f, lin in zip(feats, self.lins):
            f = f / (f.pow(2).sum(1, keepdim=True).sqrt() + EPS)
            total = total + lin((f[:n] - f[n:]).pow(2)).mean((1, 2, 3))
        return total


def load_lpips(alexnet: str | os.PathLike | Mapping, lin: str | os.PathLike | Mapping) -> LPIPS:
    """LPIPS from torchvision's AlexNet state dict and LPIPS's ``v0.1/alex.pth`` (paths or
    state dicts), strictly: every key known, every shape right, in eval mode on the CPU."""
    model = LPIPS()
    state = _state(alexnet)
    for key, shape in CLASSIFIER.items():  # known, unused: checked, then left out
        value = state.pop(key, None)
        if value is not None and tuple(value.shape) != shape:
            raise stylegan2.ArchitectureMismatchError(
                f"AlexNet's {key} is {list(value.shape)}, not {list(shape)}: not torchvision's "
                f"AlexNet")
    stylegan2.checkpoint.load_state_strict(model.net, state, "AlexNet (torchvision)")
    lins = {k.replace("lin", "", 1).replace(".model.1", ""): v
            for k, v in _state(lin).items()}
    stylegan2.checkpoint.load_state_strict(model.lins, lins, "LPIPS v0.1 linear layers")
    return model.eval()


def _state(source: str | os.PathLike | Mapping) -> dict:
    return stylegan2.read_checkpoint(source) if isinstance(source, (str, os.PathLike)) \
        else dict(source)


def synthetic_states(seed: int = 0) -> tuple[dict, dict]:
    """Seeded (AlexNet features, LPIPS linear) state dicts in the official layouts (AlexNet
    without its unused classifier; linear weights ≥ 0, as trained ones are)."""
    g = torch.Generator().manual_seed(seed)
    alex = {}
    for i, c_in, c_out, k, _, _ in CONVS:
        alex[f"features.{i}.weight"] = torch.randn(c_out, c_in, k, k, generator=g) * \
            (2 / (c_in * k * k)) ** 0.5
        alex[f"features.{i}.bias"] = torch.randn(c_out, generator=g) * 0.01
    lin = {f"lin{j}.model.1.weight": torch.rand(1, c_out, 1, 1, generator=g) * 0.1
           for j, (*_, c_out, _, _, _) in enumerate(CONVS)}
    return alex, lin
