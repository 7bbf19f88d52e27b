"""How this machine runs each heavy stage: the one place that decides.

For every stage — the render (frames, previews, the encoder's decodes), the encoder's forward
pass and the text anchors' forward and backward — each candidate path is first *asked of
torch* (``stylegan2.paths.unsupported``: no oneDNN bf16 on an AVX2 CPU, no TF32 on an old GPU),
then *run* on a small input and compared with the reference (float32, the plain PyTorch spec)
within a tolerance derived from the path's arithmetic, then *timed* (the fastest of a few
runs: other work on the machine only ever slows one). A path that is unsupported, raises,
disagrees or is far slower than the reference is dropped, with why. ``auto`` is the fastest
verified path of each stage; ``fp32`` and ``bf16`` the fastest in that arithmetic.

    plan = Plan.measure(generator, encoder)      # at load: a few seconds
    precision = plan.resolve("auto")             # per request; PrecisionError if impossible
    print(plan.table())                          # every path tried, its time and error
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

import stylegan2
from stylegan2.paths import (FP32_FLOOR, GRAD_FLOOR, REFERENCE, RenderPath, candidates, depth,
                             error, tolerance, unsupported)

from .encoders import Encoder
from ..errors import PrecisionError
from ..precision import Precision

VERIFY_RES = 128  # past the fused path's NCHW split (64 px): every code path of it runs
ANCHOR_RES = 32
ENCODER_DEPTH = 50  # IR-SE50's layers, for the encoder's tolerance
SLOW = 20.0  # a path this many times slower than the reference is no candidate
REPS = 2  # timed runs after a warm one: the fastest counts
FAMILIES = {"auto": ("fp32", "tf32", "bf16", "fp16"), "fp32": ("fp32",), "bf16": ("bf16",)}
STAGES = ("render", "invert", "anchors")


@dataclass
class Trial:
    """One path of one stage, as tried on this machine."""
    stage: str  # "render", "invert" or "anchors"
    path: RenderPath  # the invert stage's impl is unused: its math is the encoder's
    seconds: float | None = None  # the fastest timed run
    error: float | None = None  # stylegan2.paths.error against the reference
    tolerance: float | None = None
    dropped: str = ""  # why it does not serve ("" when verified)

    @property
    def name(self) -> str:
        return self.path.math if self.stage == "invert" else self.path.name

    @property
    def serves(self) -> bool:
        return not self.dropped


def _timed(run: Callable[[], torch.Tensor], sync: Callable[[], None]) -> tuple[torch.Tensor, float]:
    sync()
    start = time.perf_counter()
    out = run()
    sync()
    return out, time.perf_counter() - start


def try_paths(stage: str, paths: list[RenderPath], run: Callable[[RenderPath], torch.Tensor],
              device: torch.device, layers: int, reps: int = REPS,
              floor: float = FP32_FLOOR) -> list[Trial]:
    """Each path of a stage asked of torch, run, compared with the first (the reference) and
    timed. ``run(path)`` computes the stage's probe output along ``path``, ``layers`` deep."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    trials, ref, ref_s = [], None, None
    for path in paths:
        trial = Trial(stage, path, tolerance=tolerance(path.math, layers, floor))
        trials.append(trial)
        trial.dropped = unsupported(path, device)
        if trial.dropped:
            continue
        try:
            run(path)  # warm: buffers, kernels, oneDNN's primitives
            out, first = _timed(lambda: run(path), sync)
        except (RuntimeError, NotImplementedError) as exc:  # the path cannot run here
            trial.dropped = f"it raised: {str(exc).splitlines()[0][:160]}"
            continue
        if ref is None:
            ref, ref_s = out, first
        trial.error = error(out, ref)
        if not trial.error <= trial.tolerance:  # NaN disagrees too
            trial.dropped = (f"it disagrees with the reference (error {trial.error:.2g} > "
                             f"{trial.tolerance:.2g})")
        elif first > SLOW * ref_s:
            trial.dropped = f"it ran {first / ref_s:.0f}× slower than the reference"
        else:
            trial.seconds = min([first] + [_timed(lambda: run(path), sync)[1]
                                           for _ in range(reps - 1)])
    return trials


def render_trials(generator: stylegan2.Generator, reps: int = REPS) -> list[Trial]:
    """The render paths of this machine, on a ``VERIFY_RES`` px frame."""
    device = generator.latent_avg.device
    res = min(VERIFY_RES, generator.size)
    w = _probe_latent(generator)
    with torch.no_grad():
        return try_paths("render", candidates(device),
                         lambda p: p.synthesis(generator, w, max_res=res), device,
                         depth(res), reps)


def anchor_trials(generator: stylegan2.Generator, reps: int = REPS) -> list[Trial]:
    """The paths that give W+ gradients, as the text anchors use them: the gradient of a
    fixed image loss at ``ANCHOR_RES`` px."""
    device = generator.latent_avg.device
    res = min(ANCHOR_RES, generator.size)
    w0 = _probe_latent(generator)
    target = torch.randn(1, 3, res, res, generator=torch.Generator().manual_seed(1)).to(device)

    def grad(path: RenderPath) -> torch.Tensor:
        w = w0.clone().requires_grad_(True)
        loss = (path.synthesis(generator, w, max_res=res) * target).sum()
        return torch.autograd.grad(loss, w)[0]

    return try_paths("anchors", candidates(device, grad=True), grad, device,
                     2 * depth(res), reps, GRAD_FLOOR)


def invert_trials(encoder: Encoder, reps: int = REPS) -> list[Trial]:
    """The encoder's arithmetics: one forward pass on a seeded image."""
    device, x = encoder.device, encoder.probe()
    maths = ["fp32", "bf16"] + (["fp16"] if device.type == "cuda" else [])
    with torch.no_grad():
        return try_paths("invert", [RenderPath("ref", m) for m in maths],
                         lambda p: encoder.encode(x, Precision(invert=p.math)), device,
                         ENCODER_DEPTH, reps)


def _probe_latent(generator: stylegan2.Generator) -> torch.Tensor:
    """A seeded W+ ``[1, n_latent, style_dim]`` about the average: a typical face's latent."""
    g = torch.Generator().manual_seed(0)
    offset = torch.randn(1, generator.n_latent, generator.style_dim, generator=g) * 0.5
    return generator.latent_avg + offset.to(generator.latent_avg.device)


class Plan:
    """Every path tried for each stage on this machine, and what serves each precision."""

    def __init__(self, trials: list[Trial]):
        self.trials = trials

    @classmethod
    def measure(cls, generator: stylegan2.Generator, encoder: Encoder,
                reps: int = REPS) -> "Plan":
        """Try every stage's paths here (a few seconds)."""
        return cls(render_trials(generator, reps) + invert_trials(encoder, reps)
                   + anchor_trials(generator, reps))

    @classmethod
    def reference(cls) -> "Plan":
        """Only the reference paths, untimed: for a device whose timings mean nothing."""
        return cls([Trial(s, REFERENCE) for s in STAGES])

    def _best(self, stage: str, asked: str) -> Trial | None:
        served = [t for t in self.trials if t.stage == stage and t.serves
                  and t.path.math in FAMILIES[asked]]
        return min(served, key=lambda t: t.seconds or 0.0, default=None)

    def resolve(self, asked: str) -> Precision:
        """The paths a request's ``dtype`` (auto, fp32, bf16) runs along here; bf16 where no
        bf16 render path verified is a ``PrecisionError`` (before any slow work)."""
        render = self._best("render", asked)
        if render is None:
            why = "; ".join(f"{t.name}: {t.dropped}" for t in self.trials
                            if t.stage == "render" and t.path.math in FAMILIES[asked])
            raise PrecisionError(f"dtype {asked} cannot run right or at speed on this machine "
                                 f"({why}); use dtype auto or fp32")
        picked = {"render": render}
        for stage in ("invert", "anchors"):  # without a path of their own: fp32's
            picked[stage] = self._best(stage, asked) or self._best(stage, "fp32")
        return Precision(asked, render.path, picked["invert"].path.math,
                         picked["anchors"].path, self._note(asked, picked))

    def seconds(self, stage: str, precision: Precision) -> float | None:
        """The measured time of the path ``precision`` runs ``stage`` on (a ``VERIFY_RES`` px
        frame, an encoder pass, an ``ANCHOR_RES`` px gradient); None where it was not timed."""
        def runs(t: Trial) -> bool:
            if stage == "invert":
                return t.path.math == precision.invert
            return t.path == getattr(precision, stage)
        timed = [t.seconds for t in self.trials if t.stage == stage and t.serves and runs(t)
                 and t.seconds is not None]
        return min(timed, default=None)

    def _note(self, asked: str, picked: dict[str, Trial]) -> str:
        """One sentence: what runs each stage, the times measured, what was dropped and why
        (paths dropped for one reason named together)."""
        chosen = (f"rendering on {picked['render'].name}, the encoder in "
                  f"{picked['invert'].name}, the text anchors on {picked['anchors'].name}")
        times = "; ".join(
            f"{label} " + ", ".join(f"{t.name} {_ms(t.seconds)}" for t in timed)
            for stage, label in (("render", f"a {VERIFY_RES} px frame"),
                                 ("invert", "an encoder pass"), ("anchors", "a gradient"))
            if (timed := [t for t in self.trials if t.stage == stage and t.seconds is not None]))
        why: dict[str, list[str]] = {}
        for t in self.trials:
            if t.dropped and t.path.math in FAMILIES[asked]:
                why.setdefault(t.dropped, []).append(t.name)
        dropped = "".join(f"; {', '.join(dict.fromkeys(names))} not used: {reason}"
                          for reason, names in why.items())
        measured = f"measured here: {times}{dropped}" if times else dropped.lstrip("; ")
        return f"precision {asked}: {chosen}" + (f" ({measured})" if measured else "")

    def table(self) -> str:
        """Every path tried, as a Markdown table."""
        rows = ["| stage | path | time | error (tolerance) | serves |",
                "|---|---|---|---|---|"]
        for t in self.trials:
            err = "—" if t.error is None else f"{t.error:.2g} ({t.tolerance:.2g})"
            rows.append(f"| {t.stage} | {t.name} | {_ms(t.seconds)} | {err} | "
                        f"{'yes' if t.serves else 'no: ' + t.dropped} |")
        return "\n".join(rows)


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"
