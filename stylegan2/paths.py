"""The ways this generator can render, and how to tell whether one runs right on a machine.

A ``RenderPath`` names one way (``impl``, arithmetic, memory layout); ``Generator.synthesis``
runs it. The reference is ``RenderPath()`` (``impl="ref"`` in float32): the spec the others
must match. What a machine offers is *asked of torch* first (``unsupported``: no oneDNN bf16 on
an AVX2 CPU, no bf16 or TF32 on an old GPU) and then *verified*: a path's output, run on this
machine, must lie within ``tolerance`` of the reference's — a bound derived from the path's
arithmetic (its unit roundoff), not from one machine's results.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch

# unit roundoff u = 2^-(mantissa bits + 1) of each arithmetic a path may compute in
ROUNDOFF = {"fp32": 2.0 ** -24, "tf32": 2.0 ** -11, "bf16": 2.0 ** -8, "fp16": 2.0 ** -11}
DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16,
          "fp16": torch.float16}
# float32 paths still differ from the reference by the order of their sums (~1e-6 measured
# on 512-channel layers); this floor keeps such reassociation inside the tolerance. Gradients
# amplify it: back through demodulation the reference's own float32 W+ gradient is ~2e-4
# off its float64 one on a full-size generator, and the style-on-activations form ~2e-3 at
# 32 px (other sums cancel). 1% still refuses a wrong path (off by order 1) and asks more of
# a gradient than the optimisation it feeds needs (bf16's own bound is ~9% there).
FP32_FLOOR = 1e-5
GRAD_FLOOR = 1e-2


@dataclass(frozen=True)
class RenderPath:
    """One way to render: ``impl`` (``model.IMPLS``), the arithmetic ``math`` (fp32, tf32 —
    float32 storage, TF32 convolutions on a GPU —, bf16 or fp16) and whether activations are
    channels-last (None: the impl's own default)."""
    impl: str | None = "ref"  # None: the generator's own pick (model.Generator._pick_impl)
    math: str = "fp32"
    channels_last: bool | None = None

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.math]

    @property
    def name(self) -> str:
        layout = {True: " channels-last", False: " NCHW", None: ""}[self.channels_last]
        return f"{self.impl or 'default'} {self.math}{layout}"

    def context(self, device: torch.device):
        """What the path needs around its calls: TF32 convolutions on or off on a GPU."""
        if device.type != "cuda":
            return contextlib.nullcontext()
        return torch.backends.cudnn.flags(enabled=True, allow_tf32=self.math == "tf32")

    def synthesis(self, generator, w: torch.Tensor, **kw) -> torch.Tensor:
        """``generator.synthesis(w, **kw)`` along this path."""
        with self.context(w.device):
            return generator.synthesis(w, dtype=self.dtype, impl=self.impl,
                                       channels_last=self.channels_last, **kw)


REFERENCE = RenderPath()


def autocast(device: torch.device, dtype: torch.dtype):
    """Autocast to ``dtype`` on ``device``'s type; no context at all for float32 (a disabled
    autocast would switch off a caller's)."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype)


def candidates(device: torch.device | str, grad: bool = False) -> list[RenderPath]:
    """Every path worth trying on ``device``, the reference first; ``grad``: only those that
    give gradients (the fused CPU path does not)."""
    device = torch.device(device)
    if device.type == "cuda":
        return [REFERENCE, RenderPath("ref", "tf32"), RenderPath("ref", "bf16"),
                RenderPath("ref", "bf16", True)] + \
            ([] if grad else [RenderPath("ref", "fp16"), RenderPath("ref", "fp16", True)])
    paths = [REFERENCE, RenderPath("scaled"), RenderPath("scaled", "bf16")]
    return paths if grad else paths + [RenderPath("fused"), RenderPath("fused", "bf16")]


def unsupported(path: RenderPath, device: torch.device | str) -> str:
    """Why ``device`` cannot run ``path`` at speed, as torch reports it ("" when it can):
    nothing is run."""
    device = torch.device(device)
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if path.math == "bf16" and not torch.cuda.is_bf16_supported():
            return "this GPU has no bf16 arithmetic"
        if path.math == "tf32" and major < 8:
            return "TF32 needs a GPU of compute capability 8.0 or newer"
        if path.impl == "fused":
            return "the fused path is for CPUs"
        return ""
    if path.math in ("tf32", "fp16"):
        return f"{path.math} is a GPU arithmetic"
    if path.math == "bf16" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return (f"oneDNN has no bf16 on this CPU (torch reports "
                f"{torch.backends.cpu.get_cpu_capability()}), where bf16 runs ~100× slower")
    return ""


def error(out: torch.Tensor, ref: torch.Tensor) -> float:
    """The mean absolute difference relative to the reference's RMS (0: identical)."""
    ref = ref.detach().double()
    diff = (out.detach().double() - ref).abs().mean()
    return float(diff / ref.pow(2).mean().sqrt().clamp_min(1e-12))


def tolerance(math_name: str, depth: int, floor: float = FP32_FLOOR) -> float:
    """The largest ``error`` a path computing in ``math_name`` may show over ``depth`` layers:
    each layer rounds with relative error about u, and independent errors add like a random
    walk, so 4·u·√depth (4×: one layer's error is several roundings), plus float32's
    ``floor`` (``GRAD_FLOOR`` for gradients)."""
    return 4 * ROUNDOFF[math_name] * math.sqrt(depth) + floor


def depth(res: int) -> int:
    """The layers (convolutions and ToRGBs) a ``res`` px render runs."""
    log = int(math.log2(res))
    return (2 * log - 3) + (log - 1)
