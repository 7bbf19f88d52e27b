"""The whole path on synthetic weights: a real photo in, a real mp4 out, and clear errors."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, read_back
from micromotion.media import render
from micromotion.latents.direction import save_direction
from micromotion.errors import (DirectionFileError, NoFaceError, OptionError,
                                UnknownPresetError, WeightsMissingError)
from micromotion.nets.models import Models
from micromotion.stages.pipeline import animate
from micromotion.run import Run
from micromotion.stages.steps import invert
from micromotion.requests.request import Animate


def test_animate_preset(mm, astronaut, tmp_path):
    stages = []
    req = Animate(astronaut, "smile", scale=5, frames=6, fps=12, output_size=256,
                  paste_back="off")
    r = animate(mm, req, Run(tmp_path / "smile.mp4", progress=lambda s, i, n: stages.append((s, i, n))))
    meta, frames = read_back(r.video)
    assert frames.shape == (6, 256, 256, 3) and meta["fps"] == 12
    assert [s for s in stages if s[0] != "render"] == [
        ("align", 0, 1), ("align", 1, 1)] + [("invert", i, 5) for i in range(1, 6)]
    assert stages[-1] == ("render", 6, 6)
    # frame 0 is the render of the inverted latent
    inv = invert(mm, astronaut)
    with torch.no_grad():
        first = render.to_uint8(mm.generator.synthesis(inv.wplus, max_res=256))[0]
    luma = lambda a: a.astype(float) @ [0.299, 0.587, 0.114]  # noqa: E731
    assert np.abs(luma(frames[0]) - luma(first)).mean() < 6


def test_direction_file_side_by_side_and_gif(mm, astronaut, tmp_path):
    d = torch.randn(18, 512, generator=torch.Generator().manual_seed(0)) * 0.1
    path = save_direction(tmp_path / "mine.pt", d, {"source": "test"})
    req = Animate(astronaut, direction_file=path, frames=4, output_size=256, curve="loop",
                  side_by_side=True, paste_back="off")
    _, frames = read_back(animate(mm, req, Run(tmp_path / "o.mp4", gif=tmp_path / "o.gif")).video)
    assert frames.shape == (4, 256, 512, 3)
    assert Image.open(tmp_path / "o.gif").n_frames == 4


def test_bad_motions_fail_before_the_slow_work(mm, astronaut, tmp_path):
    def run(**fields):
        return animate(mm, Animate(astronaut, **fields), Run(tmp_path / "x.mp4"))

    with pytest.raises(OptionError, match="micromotion must be one of smile, .*, got 'wink'"):
        run(micromotion="wink")
    with pytest.raises(UnknownPresetError, match="wink"):
        run(timeline="wink:3")
    small = save_direction(tmp_path / "small.pt", torch.zeros(14, 512))
    with pytest.raises(DirectionFileError, match=r"shape \[14, 512\]; this generator needs \[18, 512\]"):
        run(direction_file=small)
    with pytest.raises(DirectionFileError, match="the direction file nope.pt does not exist"):
        run(direction_file=tmp_path / "nope.pt")
    with pytest.raises(OptionError, match="output_size must be one of 1024, 512, 256, 128, 64"):
        run(output_size=300)
    with pytest.raises(OptionError, match="fps must be an integer from 1 to 60 fps, got 0"):
        run(fps=0)
    with pytest.raises(OptionError, match="scale must be an integer from 1 to 10, got 99"):
        run(scale=99)
    with pytest.raises(OptionError, match="give only one of .* \\(got text_template and timeline\\)"):
        run(text_template="a {degree} smile", timeline="smile")
    assert not (tmp_path / "x.mp4").exists()


def test_no_face_leaves_nothing(mm, tmp_path):
    with pytest.raises(NoFaceError, match="no face found in the photo"):
        animate(mm, Animate(Image.new("RGB", (300, 300), "gray")), Run(tmp_path / "x.mp4"))
    assert not (tmp_path / "x.mp4").exists()


def test_missing_weights_are_named(tmp_path):
    with pytest.raises(WeightsMissingError,
                       match="stylegan2-ffhq-config-f.pt \\(381,462,551 bytes, sha256 bae494ef.* not found"):
        Models.load(tmp_path)
    mm = Models(None, None, weights_folder=tmp_path)  # only the presets are asked for
    with pytest.raises(WeightsMissingError, match="pregen_latents/smile/d_latent .* not found at"):
        mm.preset("smile")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "micromotion", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_animate(reference, astronaut, tmp_path):
    photo = tmp_path / "astronaut.png"
    astronaut.save(photo)
    r = cli("animate", str(photo), "--synthetic", "--weights", str(reference), "--micromotion",
            "headsTurn", "--frames", "3", "--output-size", "256", "--out", str(tmp_path / "a.mp4"))
    assert r.returncode == 0, r.stderr
    # the astronaut photo is larger than its face's crop: pasted back by default, at its size
    assert read_back(tmp_path / "a.mp4")[1].shape == (3, 512, 512, 3)
    assert "invert" in r.stderr and "render" in r.stderr  # tqdm bars


def test_cli_animate_errors(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 64)).save(photo)
    r = cli("animate", str(photo), "--weights", str(tmp_path), "--no-fetch")
    assert r.returncode == 2 and "stylegan2-ffhq-config-f.pt (381,462,551 bytes" in r.stderr
    assert "not found at" in r.stderr and "Traceback" not in r.stderr
    r = cli("animate", str(tmp_path / "none.jpg"), "--weights", str(tmp_path))
    assert r.returncode == 2 and "none.jpg does not exist" in r.stderr  # before any download
    r = cli("animate", str(photo), "--synthetic", "--frames", "1")
    assert r.returncode == 2 and "frames must be an integer from 2 to 300, got 1" in r.stderr
    long = "a person with {degree} " + "very " * 80 + "smile"
    r = cli("animate", str(photo), "--synthetic", "--text-template", long)
    assert r.returncode == 2 and "tokens; CLIP reads at most 77" in r.stderr
    r = cli("animate", str(photo), "--synthetic", "--timeline", "smile:abc:x-y")
    assert r.returncode == 2 and "'abc' is not a scale (a number)" in r.stderr


def test_a_request_is_checked_once(mm, astronaut, tmp_path, monkeypatch):
    """A door checks its request before any model is needed; serving it checks nothing again
    (a photo is decoded once by the check), while a request no door checked is checked there."""
    from micromotion.requests import checks
    from micromotion.doors import serving
    seen = []
    real = checks.check_animate
    monkeypatch.setattr(checks, "check_animate", lambda *a, **k: seen.append(1) or real(*a, **k))
    req = checks.check_request(Animate(astronaut, "smile", frames=2, output_size=64))
    assert req.checked and seen == [1]
    serving.serve(req, mm, tmp_path / "a.mp4")
    assert seen == [1]
    again = checks.dataclasses.replace(req, frames=3)  # a changed copy is not checked
    assert not again.checked
    serving.serve(again, mm, tmp_path / "b.mp4")
    assert seen == [1, 1]
