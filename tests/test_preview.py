"""Seconds to a first look: what each source shows before its video (``micromotion.media.preview``),
and examples made once and shown at once (``micromotion.doors.examples``) — synthetic weights, the
astronaut photo, the example clip."""
import re
import shutil
import time

import numpy as np

from conftest import ROOT
from micromotion.doors import serving
from micromotion.doors.examples import MADE_BEFORE, Examples, request_key
from micromotion.requests.request import Animate, LatentVideo, Transfer

DRIVE = ROOT / "examples" / "drive.mp4"
SMALL = dict(output_size=64, paste_back="off")


def glimpses(mm, req, tmp_path):
    seen = []
    serving.serve(req, mm, tmp_path / "out.mp4", preview=seen.append)
    for g in seen:
        assert g.frames.dtype == np.uint8 and g.frames.ndim == 4 and g.frames.shape[-1] == 3
        assert g.frames.shape[1] <= 256 and len(g.captions) == len(g.frames)
    return seen


def test_words_show_the_face_then_the_anchors_as_they_form(mm, astronaut, tmp_path):
    req = Animate(astronaut, text_template="a person with {degree} smile",
                  degrees="no,50%,100%", steps=3, frames=4, **SMALL)
    seen = glimpses(mm, req, tmp_path)
    assert [(g.what, g.final) for g in seen] == [("face", True)] + [("anchors", False)] * 3 + [
        ("anchors", True), ("frames", True)]
    assert seen[0].captions == ("the face in the photo",)
    assert all(g.captions == ("no", "50%", "100%") for g in seen[1:5])
    assert seen[-1].captions == ("first", "middle", "last")
    # the anchors change as they are optimised: the first step's images are not the last's
    assert np.abs(seen[1].frames.astype(int) - seen[3].frames).mean() > 0


def test_a_clip_and_a_driver_show_their_faces_before_any_inversion(mm, astronaut, tmp_path):
    steps = []
    for req, what in ((Animate(astronaut, anchor_video=str(DRIVE), anchor_frames=4, frames=3,
                               **SMALL), "clip"),
                      (Transfer(astronaut, str(DRIVE), fps=4, **SMALL), "driver")):
        seen = []

        def progress(stage, done, total):
            steps.append(stage)

        serving.serve(req, mm, tmp_path / f"{what}.mp4", progress=progress,
                      preview=lambda g: seen.append((g.what, g.captions, list(steps))))
        assert [w for w, _, _ in seen] == ["face", what, "frames"]
        _, captions, before = seen[1]
        assert captions[0] == "drive.mp4 at 0.0 s" and len(captions) == 3
        assert "clip faces" in before and "clip inversion" not in before  # before the slow part
        steps.clear()


def test_an_examples_request_is_known_by_what_it_asks(astronaut, tmp_path):
    photo = tmp_path / "a.jpg"
    astronaut.save(photo)
    copy = shutil.copy(photo, tmp_path / "elsewhere.jpg")
    key = request_key(Animate(str(photo), scale=5, names={"image": "a.jpg"}))
    assert key is not None
    assert request_key(Animate(copy, scale=5.0, server_files=False)) == key  # path, 5.0, door
    assert request_key(Animate(str(photo), scale=4)) != key
    assert request_key(Transfer(str(photo))) != key
    astronaut.rotate(1).save(copy)
    assert request_key(Animate(copy, scale=5)) != key  # the same name, other content
    assert request_key(Animate(astronaut)) is None  # an image from Python: no example


def test_examples_are_made_while_no_one_waits_and_shown_at_once(mm, astronaut, tmp_path):
    photo = tmp_path / "a.jpg"
    astronaut.save(photo)
    req = LatentVideo("walk", image=str(photo), seeds="1", frames_per_segment=2, **dict(
        output_size=64))
    lines = []
    examples = Examples(mm, [req], log=lines.append)
    with examples.in_use():  # someone is being served: the examples wait
        examples.start()
        time.sleep(3)
        assert lines == [] and examples.get(req) is None
    deadline = time.time() + 120
    while not lines[-1:] or not lines[-1].startswith("examples ready"):
        assert time.time() < deadline, lines
        time.sleep(0.2)
    assert re.fullmatch(r"making 1 example in the background \(about (\d+ min )?(\d+ s )?of "
                        r"work on this machine\), paused whenever someone is served .*",
                        lines[0]), lines
    assert lines[1:] == ["example 1 of 1 ready" + lines[1].removeprefix("example 1 of 1 ready"),
                         "examples ready: 1 of 1"]
    made = examples.get(LatentVideo("walk", image=shutil.copy(photo, tmp_path / "b.jpg"),
                                    seeds="1", frames_per_segment=2.0, output_size=64))
    assert made.result.notes[0] == MADE_BEFORE and made.glimpse.what == "frames"
    assert made.result.video.is_file() and made.result.video.parent.parent == examples.folder
    assert examples.get(LatentVideo("walk", image=str(photo), seeds="2")) is None


def test_a_persons_result_answers_the_example_after_it(mm, astronaut, tmp_path):
    photo = tmp_path / "a.jpg"
    astronaut.save(photo)
    req = LatentVideo("walk", image=str(photo), seeds="1", frames_per_segment=2, output_size=64)
    examples = Examples(mm, [req])  # not started: nothing made in the background
    result = serving.serve(req, mm, tmp_path / "mine.mp4")
    examples.keep(LatentVideo("walk", seeds="3", output_size=64), result, None)  # no example's
    assert examples.get(req) is None
    examples.keep(req, result, None)
    (tmp_path / "mine.mp4").unlink()  # the door's copy goes with its next request
    assert examples.get(req).result.video.is_file()
