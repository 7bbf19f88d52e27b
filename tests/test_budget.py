"""The work one request may cost: estimated from the plan's own timings of this machine before
any slow stage, refused over the budget with the settings to lower, and identical cues making
their anchors once."""
import re
import time

import numpy as np
import pytest
import torch

from conftest import write_clip

from micromotion.requests import budget
from micromotion.doors import serving
from micromotion.requests.checks import check_request
from micromotion.errors import BudgetError
from micromotion.motions import Preset, TextMotion
from micromotion.requests.request import Animate, LatentVideo, Transfer
from micromotion.nets.tuning import steps_for
from micromotion.nets.encoders.warm import WARM_BATCH, WARM_ITERATIONS

SMILES = "; ".join(f"text:a person with {{degree}} smile {k}:1" for k in range(16))


@pytest.fixture(scope="module")
def photos(astronaut, tmp_path_factory):
    d = tmp_path_factory.mktemp("budget")
    astronaut.save(d / "astronaut.jpg")
    astronaut.resize((4000, 4000)).save(d / "big.jpg", quality=70)
    return d


def cost(mm, req):
    precision = mm.plan.resolve(req.dtype)
    return budget.estimate(check_request(req, mm.shape), mm.plan, precision,
                           steps_for(mm.device))


def test_the_worst_request_is_refused_before_any_slow_work(mm, photos, monkeypatch, tmp_path):
    """A 4000² photo, 300 frames at 1024 px, faithful, side by side, 16 text cues: each setting
    within its own limit, the whole about two hours on a 2-core CPU — refused in a second,
    saying what costs most and what to lower; no anchor is optimised."""
    monkeypatch.delenv("MICROMOTION_WORK_BUDGET", raising=False)
    monkeypatch.setattr(TextMotion, "make", lambda *a, **k: pytest.fail("anchors were made"))
    req = Animate(image=str(photos / "big.jpg"), timeline=SMILES, frames=300,
                  fidelity="faithful", side_by_side=True)
    mm.plan  # measured at start-up in a server
    started = time.perf_counter()
    with pytest.raises(BudgetError) as err:
        serving.serve(req, mm, tmp_path / "out.mp4")
    assert time.perf_counter() - started < 10
    said = str(err.value)
    assert said.startswith("this request would take about ") and \
        "more than the 15 min one request may take; most of it is the text anchors (about" \
        in said and said.endswith("use fewer degrees or steps, or fewer distinct text cues")
    assert not (tmp_path / "out.mp4").exists()


def test_the_estimate_adds_what_the_request_asks(mm, photos):
    """Each part grows with what it counts: frames × pixels, photos and clip frames to invert,
    text-anchor steps (identical cues once), tuning steps; the video's size counts — the
    photo's (at most 2160 px a side) when the face is pasted back into it, twice side by
    side — and a frame's cost grows with its pixels beyond a fixed part."""
    photo = str(photos / "astronaut.jpg")
    base = cost(mm, Animate(image=photo, frames=20, output_size=256, paste_back="off"))
    assert set(base.parts) == {"inverting the photos", "rendering 20 frames at 256 px",
                               "writing the video"}
    more = cost(mm, Animate(image=photo, frames=40, output_size=256, paste_back="off"))
    assert more.parts["rendering 40 frames at 256 px"] == pytest.approx(
        base.parts["rendering 20 frames at 256 px"] * 43 / 23)
    big = cost(mm, Animate(image=str(photos / "big.jpg"), frames=20, output_size=256))
    wide = cost(mm, Animate(image=str(photos / "big.jpg"), frames=20, output_size=256,
                            side_by_side=True))
    assert big.parts["writing the video"] == pytest.approx(
        base.parts["writing the video"] * 2160 ** 2 / 256 ** 2)  # the video: at most 2160
    assert wide.parts["writing the video"] == pytest.approx(2 * big.parts["writing the video"])
    unit = budget.rates(mm.plan, mm.plan.resolve("auto"))
    assert unit.frame(1024) == pytest.approx(unit.frame128 * (2 / 3 + 64 / 3))
    assert unit.frame(64) == unit.frame128
    one = cost(mm, Animate(image=photo, timeline="text:a person with {degree} smile:5"))
    same = cost(mm, Animate(image=photo, timeline="; ".join(
        ["text:a person with {degree} smile:1"] * 16)))
    many = cost(mm, Animate(image=photo, timeline=SMILES))
    assert same.parts["the text anchors"] == pytest.approx(one.parts["the text anchors"])
    assert many.parts["the text anchors"] == pytest.approx(16 * one.parts["the text anchors"])
    faithful = cost(mm, Animate(image=photo, fidelity="faithful"))
    assert faithful.parts["fidelity faithful's tuning"] > 0
    latents = cost(mm, Transfer(photo, driving_latents=torch.zeros(7, *mm.shape),
                                output_size=256, paste_back="off"))
    assert "rendering 7 frames at 256 px" in latents.parts
    walk = cost(mm, LatentVideo("walk", seeds="1-4", frames_per_segment=10))
    assert "rendering 31 frames at 1024 px" in walk.parts
    assert "inverting the photos" not in walk.parts


def test_a_driver_costs_its_frames_inverted_warm(mm, photos, tmp_path):
    """The longest documented driver (300 frames) costs its first batch's full inversions and a
    warm refinement for each later frame, as ``warm.invert_in_order`` does them."""
    clip = write_clip(tmp_path / "drive.mp4", np.full((300, 32, 32, 3), 128, np.uint8), fps=30)
    req = Transfer(str(photos / "astronaut.jpg"), str(clip), output_size=256, paste_back="off")
    unit = budget.rates(mm.plan, mm.plan.resolve(req.dtype))
    cold = WARM_BATCH["cpu"]
    assert cost(mm, req).parts["inverting the driving clip's frames"] == pytest.approx(
        (cold + (300 - cold) * WARM_ITERATIONS / budget.ITERATIONS) * unit.inversion)


def test_identical_cues_make_their_anchors_once(mm, photos, monkeypatch, tmp_path):
    """Four cues of the same words: one optimisation, its direction used by every cue."""
    made = []

    def make(self, models, progress=None, precision=None, preview=None):
        made.append(self.template)
        return Preset("smile").make(models)

    monkeypatch.setattr(TextMotion, "make", make)
    cue = "text:a person with {degree} smile"
    req = Animate(image=str(photos / "astronaut.jpg"), frames=4, output_size=64,
                  timeline=f"{cue}:2:0%-25%; {cue}:2:25%-50%; aging:1; {cue}:1:50%-100%")
    result = serving.serve(req, mm, tmp_path / "cues.mp4")
    assert made == ["a person with {degree} smile"]
    assert len(result.direction.made.cues) == 4


def test_an_operator_sets_the_budget(mm, photos, monkeypatch, tmp_path):
    """MICROMOTION_WORK_BUDGET: a small one refuses even a small request; 0 no bound; a GPU
    has none unless set (its small probes overstate the work)."""
    req = Animate(image=str(photos / "astronaut.jpg"), frames=4, output_size=64)
    monkeypatch.setenv("MICROMOTION_WORK_BUDGET", "0.01")
    with pytest.raises(BudgetError, match="more than the 1 s one request may take"):
        serving.serve(req, mm, tmp_path / "a.mp4")
    monkeypatch.setenv("MICROMOTION_WORK_BUDGET", "0")
    assert serving.serve(req, mm, tmp_path / "b.mp4").video.exists()
    monkeypatch.delenv("MICROMOTION_WORK_BUDGET")
    assert budget.work_budget("cpu") == 900 and budget.work_budget("cuda") == 0


def test_the_page_says_the_cost_before_the_work(mm, photos, monkeypatch):
    """The line beside the page's button: about how long the request as set takes here and
    what most of it is; over the budget, what to lower; a mistake is left to the button."""
    pytest.importorskip("gradio")
    from micromotion.doors.page import Page
    from micromotion.errors import MicromotionError
    monkeypatch.delenv("MICROMOTION_WORK_BUDGET", raising=False)
    page, photo = Page(mm), str(photos / "astronaut.jpg")
    said = page.expected(Animate(image=photo, frames=20, output_size=256, paste_back="off"))
    assert said.startswith("About ") and " on this machine, most of it " in said, said
    monkeypatch.setenv("MICROMOTION_WORK_BUDGET", "1")
    said = page.expected(Animate(image=photo, frames=20, output_size=256, paste_back="off"))
    assert said.startswith("This request would take about ") and \
        "more than the 1 s one request may take; most of it is " in said and \
        said.endswith(": use fewer frames or a smaller output_size."), said
    with pytest.raises(MicromotionError):
        page.expected(Animate(image=photo, frames=9999))



def test_warming_the_examples_says_what_it_costs(mm, photos):
    """The page's log, as it starts making its examples: how much work that is here."""
    pytest.importorskip("gradio")
    from micromotion.doors.examples import Examples
    photo = str(photos / "astronaut.jpg")
    work = Examples(mm, [Animate(image=photo, frames=20, output_size=256, paste_back="off"),
                         Animate(image=photo, frames=9999)])._work()  # the second: its turn
    assert re.fullmatch(r" \(about (\d+ min )?(\d+ s )?of work on this machine\)", work), work


@pytest.mark.parametrize("seconds,said", [(0.2, "1 s"), (44.6, "45 s"), (60, "1 min"),
                                          (65, "1 min 5 s"), (599, "9 min 59 s"),
                                          (1290, "22 min")])
def test_a_duration_is_said_as_precisely_as_is_worth(seconds, said):
    """One way to say how long, on the page's line, in its progress and in the budget's
    sentence."""
    from micromotion.naming import duration
    assert duration(seconds) == said
