"""Beyond the paper: motion transfer, composed micromotions, paste-back (synthetic weights and
the astronaut photo)."""
import re

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import read_back, write_clip
from micromotion.media import paste
from micromotion.media.smooth import smooth
from micromotion.nets.encoders.warm import WARM_BATCH, WARM_ITERATIONS
from micromotion.latents import timeline
from micromotion.motions.drivers import offsets as driving  # the fixture below is called driver
from micromotion.errors import NoFaceError, OptionError, VideoError
from micromotion.requests.checks import check_transfer
from micromotion.stages.pipeline import animate, transfer
from micromotion.media.paste import render_size
from micromotion.stages.steps import invert
from micromotion.requests.request import Animate, Transfer
from micromotion.doors.wording import describe
from micromotion.run import Run
from micromotion.doors.serving import serve
from micromotion.latents.timeline import Cue

SMALL = dict(output_size=64, paste_back="off")


def planted(n_frames=24, layers=range(18), seed=0):
    """A driver whose W+ moves along two planted directions (only in ``layers``)."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(18, 512, generator=g)
    u = torch.zeros(2, 18, 512)
    u[:, list(layers)] = torch.randn(2, len(layers), 512, generator=g)
    t = torch.linspace(0, 1, n_frames)
    a = torch.stack([torch.sin(3 * t), t ** 2], 1)
    return base + torch.einsum("tk,kld->tld", a, u)


def test_smoothing_is_zero_phase_and_keeps_constants():
    x = torch.zeros(21, 2)
    x[10] = 1
    y = smooth(x, 2.0)
    assert torch.allclose(y[:, 0], y.flip(0)[:, 0]) and y[10, 0] == y[:, 0].max()  # no lag
    assert y[:, 0].sum() == pytest.approx(1, abs=1e-6)
    torch.testing.assert_close(smooth(torch.ones(5, 3), 1.5), torch.ones(5, 3))
    assert smooth(x, 0) is x


def test_offsets_of_a_planted_path_are_recovered():
    lat = planted()
    m = driving.motion_offsets(lat, rank=4, layers=list(range(18)))
    assert (m.offsets - (lat - lat[0])).abs().max() <= 1e-4
    m = driving.motion_offsets(planted(layers=range(3, 7)))  # default: the layers that move
    assert m.layers == [3, 4, 5, 6] and sum(m.energy[3:7]) == pytest.approx(1, abs=1e-6)
    assert m.offsets[:, [0, 1, 2, 7]].abs().max() == 0


def test_offsets_from_a_chosen_neutral_frame():
    lat = planted(12)
    m = driving.motion_offsets(lat, neutral=5, layers=list(range(18)))
    assert m.offsets[5].abs().max() < 1e-6
    assert (m.offsets - (lat - lat[5])).abs().max() <= 1e-4
    with pytest.raises(OptionError, match="neutral frame must be an integer from 0 to 11"):
        driving.motion_offsets(lat, neutral=12)


def test_transfer_of_planted_latents_follows_the_driver(mm, astronaut, tmp_path):
    lat = planted(10)
    r = transfer(mm, Transfer(astronaut, driving_latents=lat, layers=list(range(18)),
                                      smoothing=0, fps=15, **SMALL), Run(tmp_path / "t.mp4"))
    # the photo inverted as the request was (auto: bf16 where this CPU has it)
    target = invert(mm, astronaut, run=Run(precision=mm.plan.resolve("auto"))).wplus[0]
    assert (r.latents - (target + (lat - lat[0]))).abs().max() <= 1e-4
    meta, frames = read_back(r.video)
    assert frames.shape == (10, 64, 64, 3) and meta["fps"] == 15
    r = serve(Transfer(astronaut, driving_latents=lat, scale=2.5, **SMALL), mm,
              tmp_path / "t.mp4")  # the doors' serve reaches it too
    assert r.how.layers == r.motion.layers and len(r.how.energy) == 18
    assert r.how.driver == "the given latents"


@pytest.mark.parametrize("drivers,words", [
    ({}, "driving_video is required"),
    ({"driving_video": "d.mp4", "driving_latents": torch.zeros(2, 18, 512)},
     "give one driver: a clip (driving_video), two photos (neutral_image and driving_image) "
     "or latents (driving_latents), not clip and latents"),
    ({"neutral_image": "rest.jpg"}, "driving_image is required too: two photos of the driver")])
def test_a_transfer_names_one_whole_driver(astronaut, drivers, words):
    with pytest.raises(OptionError, match=re.escape(words)):
        check_transfer(Transfer(astronaut, **drivers))


@pytest.fixture(scope="module")
def driver(astronaut, tmp_path_factory):
    """A 20 fps clip of the astronaut's face drifting: 10 frames (0.5 s)."""
    path = tmp_path_factory.mktemp("drive") / "drive.mp4"
    big = astronaut.resize((560, 560))
    write_clip(path, [np.asarray(big.crop((4 * i, 2 * i, 4 * i + 512, 2 * i + 512)))
                      for i in range(10)], fps=20)
    return path


def test_transfer_from_a_clip_keeps_its_timing(mm, astronaut, driver, tmp_path):
    r = transfer(mm, Transfer(astronaut, driver, **SMALL), Run(tmp_path / "t.mp4"))
    meta, frames = read_back(r.video)
    assert frames.shape == (10, 64, 64, 3) and meta["fps"] == 20
    r = transfer(mm, Transfer(astronaut, driver, fps=10, **SMALL), Run(tmp_path / "t.mp4"))
    meta, frames = read_back(r.video)
    assert frames.shape == (5, 64, 64, 3) and meta["fps"] == 10  # the same 0.5 s


def test_a_driver_read_faster_than_it_runs_is_inverted_once_per_frame(mm, astronaut, driver,
                                                                        tmp_path):
    stages = []
    r = transfer(mm, Transfer(astronaut, driver, fps=40, smoothing=0, **SMALL), Run(tmp_path / "t.mp4", progress=lambda s, i, n: stages.append((s, i, n))))
    meta, frames = read_back(r.video)
    assert frames.shape == (20, 64, 64, 3) and meta["fps"] == 40  # 0.5 s, each frame twice
    assert [s for s in stages if s[0] == "clip inversion"][-1] == ("clip inversion", 10, 10)
    # unsmoothed, a repeated frame moves the target exactly as its twin does
    assert torch.equal(r.latents[0], r.latents[1]) and torch.equal(r.latents[2], r.latents[3])


def test_a_driver_is_inverted_warm_in_time_order(mm, astronaut, driver, tmp_path, monkeypatch):
    """Its first batch from the average face, every later frame refined once from the frame a
    batch before it, as an edit's frames are: a driver's encoder work is a fifth of five
    refinements a frame."""
    calls, invert = [], mm.encoder.invert

    def counted(x, iterations=None, **kw):
        calls.append((len(x), iterations, kw.get("start") is not None))
        return invert(x, iterations, **kw)

    monkeypatch.setattr(mm.encoder, "invert", counted)
    transfer(mm, Transfer(astronaut, driver, **SMALL), Run(tmp_path / "t.mp4"))
    batch, clip = WARM_BATCH["cpu"], [c for c in calls if c != (1, None, False)]  # not the photo
    assert clip == [(batch, None, False)] + [(batch, WARM_ITERATIONS, True)] * (10 // batch - 1)


def test_transfer_from_a_driving_photo_and_its_neutral(mm, astronaut, tmp_path):
    moved = astronaut.rotate(8, resample=Image.BILINEAR)
    r = transfer(mm, Transfer(astronaut, neutral_image=astronaut, driving_image=moved,
                                     frames=5, curve="loop", **SMALL), Run(tmp_path / "t.mp4", gif=tmp_path / "t.gif"))
    assert read_back(r.video)[1].shape == (5, 64, 64, 3) and r.how.driver == "the neutral photo to the driving photo"
    assert Image.open(tmp_path / "t.gif").n_frames > 1  # the GIF asked for (PIL merges repeats)


def test_bad_drivers_are_clear_errors(mm, astronaut, driver, tmp_path):
    blank = tmp_path / "blank.mp4"
    write_clip(blank, [np.full((128, 128, 3), 90 + i, np.uint8) for i in range(6)])
    def run(image, clip, **fields):
        return transfer(mm, Transfer(image, clip, output_size=64, **fields), Run(tmp_path / "x.mp4"))

    with pytest.raises(NoFaceError, match="no face found in 6 of the 6 frames"):
        run(astronaut, blank)
    two = tmp_path / "two.mp4"
    pair = np.concatenate([np.asarray(astronaut)] * 2, axis=1)
    write_clip(two, [pair] * 4)
    with pytest.raises(VideoError, match="two.mp4 shows several people"):
        run(astronaut, two)
    long = write_clip(tmp_path / "long.mp4", [np.zeros((32, 32, 3), np.uint8)] * 310, fps=30)
    with pytest.raises(VideoError, match="long.mp4 is 10.3 s long: at 30 fps that is 310 "
                                         "frames, more than 300; trim it or use a lower fps"):
        run(astronaut, long)
    with pytest.raises(NoFaceError, match="no face found in the photo"):
        run(Image.new("RGB", (300, 300), "gray"), driver)
    with pytest.raises(OptionError, match="neutral_frame must be an integer from 0 to 9"):
        run(astronaut, driver, neutral_frame=10)
    with pytest.raises(OptionError, match="driving_video is required"):
        run(astronaut, None)
    assert not (tmp_path / "x.mp4").exists()


def test_a_fast_driver_is_resampled(mm, astronaut, tmp_path):
    fast = tmp_path / "fast.mp4"
    write_clip(fast, [np.asarray(astronaut)] * 20, fps=100)  # 0.2 s at 100 fps
    r = transfer(mm, Transfer(astronaut, fast, **SMALL), Run(tmp_path / "t.mp4"))
    meta, frames = read_back(r.video)
    assert meta["fps"] == 30 and len(frames) == 6  # 0.2 s at 30 fps
    assert "fast.mp4 runs at 100 fps; its frames were taken at 30 fps" in r.notes[-1]


def test_cue_weights_and_scales_add():
    c = timeline.cue_weights(10, 2, 6, "linear")
    torch.testing.assert_close(c, torch.tensor([0, 0, 0, .25, .5, .75, 1, 1, 1, 1]))
    loop = timeline.cue_weights(10, 0, 8, "loop")
    assert loop[0] == 0 and loop[4] == pytest.approx(1) and loop[8:].abs().max() < 1e-6
    w, d1, d2 = torch.zeros(18, 512), torch.ones(18, 512), torch.full((18, 512), 2.0)
    cues = [Cue("a", 3.0, 0, 5, percent=False), Cue("b", -1.0, 3, 9, "ease", percent=False)]
    path = timeline.composed_path(w, [d1, d2], cues, 10)
    expect = 3 * timeline.cue_weights(10, 0, 5, "linear") - 2 * timeline.cue_weights(10, 3, 9, "ease")
    torch.testing.assert_close(path[:, 0, 0], expect)


def test_parse_cues():
    cues = timeline.parse_cues("smile:5:0-40:ease; headsTurn:3:40%-100%\n"
                               "text:a person with {degree} smile:2; aging:1:f2-f5")
    assert cues == [Cue("smile", 5.0, 0, 40, "ease"), Cue("headsTurn", 3.0, 40, 100),
                    Cue("text:a person with {degree} smile", 2.0),
                    Cue("aging", 1.0, 2, 5, percent=False)]
    with pytest.raises(OptionError, match="mixes frames and percent"):
        timeline.parse_cues("smile:f0-40")
    with pytest.raises(OptionError, match="the timeline is empty"):
        timeline.parse_cues(" ; ")
    with pytest.raises(OptionError, match="the cue's end frame must be an integer from 41 to 99"):
        timeline.check_cue(Cue("smile", 1, 40, 20, percent=False), 100)
    with pytest.raises(OptionError, match="the cue runs from 40% to 20% of the video"):
        timeline.check_cue(Cue("smile", 1, 40, 20), 100)
    assert timeline.check_cue(Cue("smile", 1, 0, 40), 8) == (0, 3)  # percent: any frame count


def test_composed_animation(mm, astronaut, tmp_path):
    cues = [Cue("smile", 2, 0, 3, percent=False), Cue("aging", 1, 2, 5, "ease", percent=False)]
    r = animate(mm, Animate(astronaut, timeline=cues, frames=6, **SMALL), Run(tmp_path / "c.mp4"))
    assert read_back(r.video)[1].shape == (6, 64, 64, 3)
    expect = 2 * mm.preset("smile").vector + mm.preset("aging").vector  # both at full at the end
    torch.testing.assert_close(r.direction.vector, expect, atol=1e-5, rtol=0)
    assert [c["scale"] for c in r.direction.meta["cues"]] == [2, 1]
    assert describe(r) == ("a timeline of the published smile direction at scale 2 from frame 0 "
                           "to 3; the published aging direction at scale 1 from frame 2 to 5")
    with pytest.raises(OptionError, match="the cue's end frame must be an integer from 1 to 5, "
                                          "got 50"):
        animate(mm, Animate(astronaut, timeline=[Cue("smile", 1, 0, 50, percent=False)],
                            frames=6), Run(tmp_path / "x.mp4"))
    with pytest.raises(OptionError, match="cue 2's scale must be a number from 1 to 10, got 20"):
        animate(mm, Animate(astronaut, timeline="smile:2; aging:20", frames=6), Run(tmp_path / "x.mp4"))


def test_paste_back_keeps_the_rest_of_the_photo(mm, astronaut, tmp_path):
    r = animate(mm, Animate(astronaut, "smile", frames=3, output_size=256), Run(tmp_path / "p.mp4"))
    assert "so the video is 512×512; the face is " in r.notes[-1]  # auto: on
    assert "so it was rendered at 256 px" in r.notes[-1]
    meta, frames = read_back(r.video)
    assert frames.shape == (3, 512, 512, 3)  # the photo's size
    p = paste.PasteBack(astronaut, [r.aligned.quad])
    outside = p.photo_mask == 0
    photo = np.asarray(astronaut).astype(int)
    for frame in frames:  # through H.264 4:2:0: about equal, not bit-exact
        assert np.abs(frame.astype(int) - photo)[outside].mean() < 2.5
    noise = np.random.default_rng(0).integers(0, 256, (2, 256, 256, 3), dtype=np.uint8)
    pasted = p([noise])  # before the codec: exactly the photo's pixels outside the mask
    assert (pasted[:, outside] == np.asarray(astronaut)[outside]).all()
    inside = p.photo_mask > 0.99
    assert not (pasted[:, inside] == np.asarray(astronaut)[inside]).all()


def test_a_pasted_face_is_rendered_at_the_size_it_fills():
    """With paste-back the render size follows the face in the output: the smallest output
    size that holds it, never above what was asked."""
    assert [render_size(side, 1024) for side in (10, 64, 65, 300, 512, 700, 1500)] == \
        [64, 64, 128, 512, 512, 1024, 1024]
    assert render_size(300, 256) == 256 and render_size(100, 64) == 64


def test_paste_back_seam_is_feathered(astronaut):
    m = paste.face_mask(256)
    assert m.max() == 1 and m.min() == 0
    ramp = ((m > 0) & (m < 1)).sum() / (m > 0).sum()
    assert ramp > 0.1  # a soft band, not a hard edge
    assert np.abs(np.diff(m, axis=0)).max() < 0.1 and np.abs(np.diff(m, axis=1)).max() < 0.1


def test_paste_back_off_for_a_tight_crop(mm, astronaut, tmp_path):
    aligned = invert(mm, astronaut).aligned
    tight = aligned.image.resize((300, 300))  # the photo is the face's crop already
    r = animate(mm, Animate(tight, "smile", frames=2, output_size=64), Run(tmp_path / "t.mp4"))
    assert r.notes == []
    assert read_back(r.video)[1].shape == (2, 64, 64, 3)


def test_cli_transfer_and_compose(reference, astronaut, driver, tmp_path):
    from test_cli import run
    photo = tmp_path / "astronaut.png"
    astronaut.save(photo)
    out = tmp_path / "t.mp4"
    r = run("transfer", str(photo), str(driver), "--synthetic", "--output-size", "64", "--out",
            str(out))
    assert r.returncode == 0, r.stderr
    meta, frames = read_back(out)
    assert frames.shape == (10, 512, 512, 3) and meta["fps"] == 20  # pasted back, driver's timing
    assert "moves W+ layers" in r.stderr and "note: the moving face was put back" in r.stderr
    out = tmp_path / "c.mp4"
    r = run("animate", str(photo), "--synthetic", "--weights", str(reference), "--frames", "4",
            "--timeline", "smile:3:0-60:ease; aging:2:f1-f3", "--output-size", "64",
            "--paste-back", "off", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert read_back(out)[1].shape == (4, 64, 64, 3)
    r = run("animate", str(photo), "--synthetic", "--timeline", "smile:3:0-200")
    assert r.returncode == 2 and "the cue runs from 0% to 200% of the video" in r.stderr
    r = run("transfer", str(photo), str(tmp_path / "none.mp4"), "--synthetic")
    assert r.returncode == 2 and "none.mp4 does not exist" in r.stderr


def test_the_size_said_is_the_videos_with_the_photo_beside_it(mm, astronaut, tmp_path):
    r = animate(mm, Animate(astronaut, "smile", frames=2, output_size=64, side_by_side=True), Run(tmp_path / "s.mp4"))
    assert read_back(r.video)[1].shape == (2, 512, 1024, 3)
    assert "so the video is 1024×512; the face is " in r.notes[-1]
    assert "so it was rendered at 64 px" in r.notes[-1]
