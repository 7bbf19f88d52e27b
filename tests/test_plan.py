"""How a machine runs each stage (micromotion/nets/plan.py): every path verified against the
reference before it serves, on this CPU and on a pretend AVX2-only one (tests/pretend_cpu.py),
whatever CPU the tests run on."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, read_back
from micromotion.doors import serving
from micromotion.errors import OptionError, PrecisionError
from micromotion.nets.plan import Plan, render_trials
from micromotion.requests.request import Animate
from pretend_cpu import PRETEND_AVX2_ENV, pretend_avx2
from stylegan2 import fused_cpu
from stylegan2.paths import RenderPath, error, tolerance, unsupported

BF16_HERE = not unsupported(RenderPath("fused", "bf16"), "cpu")


@pytest.fixture
def fresh_plan(mm):
    """``mm`` with its plan measured anew by the test, and the measured one put back."""
    kept = mm.plan
    yield mm
    mm.plan = kept


def test_every_path_is_verified_timed_or_dropped_with_why(mm):
    plan = mm.plan
    stages = {t.stage for t in plan.trials}
    assert stages == {"render", "invert", "anchors"}
    for t in plan.trials:
        if t.serves:
            assert t.error <= t.tolerance and t.seconds > 0, t
        else:
            assert t.dropped and t.seconds is None, t
    ref = [t for t in plan.trials if t.path == RenderPath() and t.stage != "invert"]
    assert all(t.serves and t.error == 0 for t in ref)
    auto = plan.resolve("auto")
    assert auto.note.startswith("precision auto: rendering on ") and "measured here" in auto.note
    assert plan.resolve("fp32").render.math == "fp32"
    assert "| render | fused fp32 |" in plan.table()


def test_under_a_pretend_avx2_cpu_auto_is_fp32_and_bf16_one_sentence(fresh_plan, astronaut,
                                                                      tmp_path):
    with pretend_avx2():
        fresh_plan.plan = Plan.measure(fresh_plan.generator, fresh_plan.encoder)
        bf16 = [t for t in fresh_plan.plan.trials if t.path.math == "bf16"]
        assert bf16 and all("oneDNN has no bf16 on this CPU (torch reports AVX2)" in t.dropped
                            for t in bf16)
        assert all(t.error is None for t in bf16)  # asked of torch, never run
        r = serving.serve(Animate(astronaut, "smile", frames=2, output_size=64,
                                  paste_back="off"), fresh_plan, tmp_path / "a.mp4")
        assert read_back(r.video)[1].shape == (2, 64, 64, 3)
        assert r.details[0].startswith("precision auto: rendering on ")  # the expert's
        assert "fp32" in r.details[0] and "bf16 not used: oneDNN has no bf16" in r.details[0]
        with pytest.raises(PrecisionError, match=r"^dtype bf16 cannot run right or at speed on "
                                                 r"this machine \(.*AVX2.*\); use dtype auto "
                                                 r"or fp32$"):
            serving.serve(Animate(astronaut, "smile", dtype="bf16"), fresh_plan,
                          tmp_path / "b.mp4")
        # and the fused op itself raises as on such a CPU, were it run
        x = torch.zeros(1, 4, 8, 8, dtype=torch.bfloat16).contiguous(
            memory_format=torch.channels_last)
        with pytest.raises(RuntimeError, match="bf16 path needs the cpu support"):
            fused_cpu._conv_add_(x.clone(), x, torch.zeros(4, 4, 3, 3, dtype=torch.bfloat16),
                                 None, 1)


def test_a_fast_path_with_wrong_numbers_is_refused(mm, monkeypatch):
    real = fused_cpu.synthesis
    # 30 % off: beyond bf16's tolerance too (5 % stayed inside it on a bf16 CPU)
    monkeypatch.setattr(fused_cpu, "synthesis", lambda *a, **k: real(*a, **k) * 1.3)
    trials = {t.path: t for t in render_trials(mm.generator)}
    for math in ("fp32", "bf16"):
        fused = trials[RenderPath("fused", math)]
        if math == "fp32" or BF16_HERE:
            assert fused.dropped.startswith("it disagrees with the reference (error ")
    assert trials[RenderPath("scaled")].serves
    plan = Plan(list(trials.values()) + [t for t in mm.plan.trials if t.stage != "render"])
    assert plan.resolve("auto").render.impl != "fused"


def test_a_path_that_raises_is_dropped_with_its_message(mm, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("no such kernel here\nmore detail")
    monkeypatch.setattr(fused_cpu, "synthesis", broken)
    trials = {t.path: t for t in render_trials(mm.generator)}
    assert trials[RenderPath("fused")].dropped == "it raised: no such kernel here"


def test_forced_bf16_runs_where_it_verified(mm, astronaut, tmp_path):
    if not BF16_HERE:
        with pytest.raises(PrecisionError, match="use dtype auto or fp32"):
            mm.plan.resolve("bf16")
        pytest.skip("this CPU runs no bf16 (refused in one sentence, above)")
    frames = {}
    for dtype in ("fp32", "bf16"):
        req = Animate(astronaut, "smile", frames=2, output_size=64, paste_back="off", dtype=dtype)
        frames[dtype] = read_back(serving.serve(req, mm, tmp_path / f"{dtype}.mp4").video)[1]
    levels = np.abs(frames["fp32"].astype(int) - frames["bf16"].astype(int))
    assert 0 < levels.mean() < 3  # bf16 did run, about a level off (through H.264)
    with pytest.raises(OptionError, match="dtype must be one of auto, fp32, bf16, got 'fp16'"):
        serving.serve(Animate(astronaut, dtype="fp16"), mm, tmp_path / "x.mp4")


def test_tolerances_follow_the_arithmetic():
    assert tolerance("bf16", 16) > tolerance("tf32", 16) > tolerance("fp32", 16)
    assert tolerance("bf16", 64) == pytest.approx(2 * tolerance("bf16", 16) - 1e-5)
    ref = torch.linspace(-1, 1, 100)
    assert error(ref, ref) == 0 and error(ref * 1.1, ref) == pytest.approx(0.1 * 1.0 / 1.0, rel=0.2)
    assert not error(ref * float("nan"), ref) <= 1  # NaN never agrees


def test_the_main_job_runs_on_a_pretend_avx2_cpu(tmp_path, reference):
    """The README's `make predict SYNTHETIC=1`, as that command runs it, on an AVX2-only CPU."""
    out = tmp_path / "smile.mp4"
    r = subprocess.run([sys.executable, "-m", "micromotion", "animate", "examples/astronaut.jpg",
                        "--micromotion", "smile", "--synthetic", "--output-size", "256",
                        "--frames", "4", "--weights", str(reference), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, **PRETEND_AVX2_ENV})
    assert r.returncode == 0, r.stderr
    assert "note: precision auto: rendering on " in r.stderr
    assert "bf16 not used: oneDNN has no bf16 on this CPU (torch reports AVX2)" in r.stderr
    assert read_back(out)[1].shape[0] == 4
