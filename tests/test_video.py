"""Video anchors and made directions: clips read back by ffmpeg, faces tracked, anchors in time
order, and the CLI's `direction` and `animate --text-template/--anchor-video` as a user runs them."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, read_back, write_clip
from micromotion.media.align import align_track
from micromotion.latents.direction import load_direction
from micromotion.nets.encoders import preprocess
from micromotion.errors import NoFaceError, OptionError, PromptError, VideoError
from micromotion.motions import direction_from_text, direction_from_video
from micromotion.stages.pipeline import animate
from micromotion.requests.request import Animate
from micromotion.precision import FP32
from micromotion.run import Run
from micromotion.media import header, video
from micromotion.media.video import pick_indices, read_clip


@pytest.fixture(scope="module")
def face_clip(astronaut, tmp_path_factory):
    """12 frames of the astronaut drifting right by 3 px a frame, at 10 fps."""
    a = np.asarray(astronaut)
    frames = [np.roll(a, 3 * i, axis=1) for i in range(12)]
    return write_clip(tmp_path_factory.mktemp("clips") / "drift.mp4", frames, fps=10)


def test_pick_indices():
    assert pick_indices(5, 16) == [0, 1, 2, 3, 4]
    assert pick_indices(100, 4) == [0, 33, 66, 99]
    assert pick_indices(100, 1) == [49] and pick_indices(100, 0) == []  # (a face's pivot)


def test_read_clip_picks_evenly_spaced_frames(tmp_path):
    frames = [np.full((32, 48, 3), 5 * i, np.uint8) for i in range(50)]
    clip = read_clip(write_clip(tmp_path / "ramp.mp4", frames, fps=25), max_frames=6)
    assert clip.indices == [0, 10, 20, 29, 39, 49]
    assert clip.n_frames == 50 and clip.fps == 25 and clip.duration == pytest.approx(2.0)
    assert clip.times == pytest.approx([i / 25 for i in clip.indices])
    levels = [np.asarray(f)[..., 0].mean() for f in clip.frames]
    assert np.allclose(levels, [5 * i for i in clip.indices], atol=4)  # codec tolerance


def test_bad_clips(tmp_path):
    with pytest.raises(VideoError, match="does not exist"):
        read_clip(tmp_path / "none.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    with pytest.raises(VideoError, match="could not be read as a video"):
        read_clip(bad)
    Image.new("RGB", (32, 32)).save(tmp_path / "still.png")
    with pytest.raises(VideoError, match="still.png could not be read as a video: only mp4"):
        read_clip(tmp_path / "still.png")
    Image.new("RGB", (32, 32)).save(tmp_path / "still.gif")
    with pytest.raises(VideoError, match="still.gif shows one frame; a video of at least 2"):
        read_clip(tmp_path / "still.gif")
    long = write_clip(tmp_path / "long.mp4", [np.zeros((16, 16, 3), np.uint8)] * 30, fps=10)
    with pytest.raises(VideoError, match="3 s long.*at most 2 s"):
        read_clip(long, max_seconds=2)
    with pytest.raises(VideoError, match="max_frames"):
        read_clip(long, max_frames=1)


def test_tracking_keeps_the_first_face(astronaut):
    """A second, larger face entering the frame does not steal the track."""
    small = np.asarray(astronaut.resize((256, 256)))
    alone = np.zeros((512, 1024, 3), np.uint8)
    alone[128:384, :256] = small
    both = alone.copy()
    both[:, 512:] = np.asarray(astronaut)  # bigger, more confident
    faces = align_track([Image.fromarray(alone), Image.fromarray(both),
                         Image.fromarray(np.zeros((64, 64, 3), np.uint8))], size=64)
    assert faces[0].box[2] < 300 and faces[1].box[2] < 300  # still the left face
    assert faces[1].n_faces == 2 and faces[2] is None


def test_direction_from_video(mm, face_clip):
    stages = []
    d, a = direction_from_video(mm, face_clip, max_frames=3,
                                run=Run(progress=lambda s, i, n: stages.append((s, i, n)),
                                        precision=FP32))
    assert a.latents.shape == (3, 18, 512) and a.images.shape == (3, 256, 256, 3)
    assert a.times == pytest.approx([0.0, 0.6, 1.1]) and a.notes == []
    assert d.vector.shape == (18, 512) and torch.isfinite(d.vector).all()
    assert d.meta["source"] == "video" and d.meta["anchors"] == 3 and d.meta["rank"] == 3  # capped at K
    assert ("clip faces", 3, 3) in stages and ("clip inversion", 3, 3) in stages
    assert stages[-1] == ("direction", 1, 1)
    # the anchors are the inversions of the frames, in time order
    first = mm.encoder.invert(preprocess(Image.fromarray(a.images[0])))
    assert (first[0] - a.latents[0]).abs().max() < 1e-4


def test_clip_without_faces_is_a_clear_error(mm, astronaut, tmp_path):
    blank = [np.full((256, 256, 3), 90, np.uint8)] * 8
    with pytest.raises(NoFaceError, match="no face found in 8 of the 8 frames"):
        direction_from_video(mm, write_clip(tmp_path / "blank.mp4", blank))
    face = np.asarray(astronaut.resize((256, 256)))
    mostly_blank = [face, face, face] + blank[:5]
    with pytest.raises(NoFaceError, match="5 of the 8"):
        direction_from_video(mm, write_clip(tmp_path / "mostly.mp4", mostly_blank))


def test_animation_with_a_video_motion(mm, astronaut, face_clip, tmp_path):
    req = Animate(astronaut, anchor_video=face_clip, anchor_frames=2, frames=5,
                  output_size=256, paste_back="off")
    result = animate(mm, req, Run(tmp_path / "v.mp4"))
    _, frames = read_back(result.video)
    assert frames.shape == (5, 256, 256, 3)
    assert result.anchor_images.shape == (2, 256, 256, 3)
    assert result.direction.meta["source"] == "video"


def test_text_motion_checks_before_the_slow_work(mm, tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 64)).save(photo)  # no face: never looked for
    with pytest.raises(PromptError, match="no \\{degree\\}"):
        animate(mm, Animate(photo, text_template="a smile"), Run(tmp_path / "t.mp4"))
    long = "a person with {degree} " + "very " * 80 + "smile"
    with pytest.raises(PromptError, match="is 8[0-9] tokens; CLIP reads at most 77"):
        animate(mm, Animate(photo, text_template=long), Run(tmp_path / "t.mp4"))
    with pytest.raises(OptionError, match="loss_res"):
        direction_from_text(mm, "a person with {degree} smile", loss_res=100)


def run(*args):
    return subprocess.run([sys.executable, "-m", "micromotion", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_direction_from_text_then_animate(tmp_path, reference, astronaut):
    out = tmp_path / "smile.pt"
    r = run("direction", "--synthetic", "--text-template", "a person with {degree} smile",
            "--degrees", "no,50%,100%", "--steps", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    d = load_direction(out)
    assert d.vector.shape == (18, 512) and d.meta["template"] == "a person with {degree} smile"
    assert d.meta["degrees"] == ["no", "50%", "100%"] and len(d.meta["final_losses"]["clip"]) == 3
    strip = np.asarray(Image.open(out.with_suffix(".anchors.png")))
    assert strip.shape == (256, 3 * 256, 3)
    photo = tmp_path / "astronaut.png"
    astronaut.save(photo)
    r = run("animate", str(photo), "--synthetic", "--direction-file", str(out), "--frames", "3",
            "--output-size", "256", "--out", str(tmp_path / "a.mp4"), "--weights", str(reference))
    assert r.returncode == 0, r.stderr
    assert read_back(tmp_path / "a.mp4")[1].shape == (3, 512, 512, 3)  # pasted back


def test_cli_animate_from_video(tmp_path, face_clip, astronaut):
    photo = tmp_path / "astronaut.png"
    astronaut.save(photo)
    r = run("animate", str(photo), "--synthetic", "--anchor-video", str(face_clip),
            "--anchor-frames", "2", "--frames", "4", "--output-size", "256", "--out", str(tmp_path / "v.mp4"),
            "--save-direction", str(tmp_path / "v.pt"))
    assert r.returncode == 0, r.stderr
    assert read_back(tmp_path / "v.mp4")[1].shape == (4, 512, 512, 3)  # pasted back
    assert load_direction(tmp_path / "v.pt").meta["source"] == "video"
    assert (tmp_path / "v.anchors.png").is_file()


@pytest.mark.parametrize("args,match", [
    (["direction", "--synthetic", "--out", "x.pt"], "give --text-template"),
    (["direction", "--synthetic", "--text-template", "a smile", "--out", "x.pt"],
     "has no {degree}"),
    (["direction", "--synthetic", "--anchor-video", "nope.mp4", "--out", "x.pt"],
     "nope.mp4 does not exist"),
    (["animate", "p.jpg", "--synthetic", "--text-template", "a {degree} smile",
      "--anchor-video", "v.mp4"], "give only one of text_template, anchor_video"),
])
def test_cli_bad_motion_inputs(args, match):
    r = run(*args)
    assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr


def test_a_clip_is_refused_from_its_header_before_any_frame_is_decoded(tmp_path, monkeypatch):
    """Frame size, length and (for a driver) frame count come from the container's header:
    such a clip is refused without ffmpeg decoding a frame (here: decoding would fail)."""
    import imageio_ffmpeg
    from micromotion.media import header, video

    def clip(name: str, size: str, seconds: int, rate: int = 30) -> Path:
        path = tmp_path / name
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
                        "-i", f"color=c=gray:s={size}:r={rate}:d={seconds}", "-c:v", "libx264",
                        "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
        return path
    wide, long, many = (clip("wide.mp4", "4112x64", 1, 2), clip("long.mp4", "64x64", 61, 2),
                        clip("many.mp4", "64x64", 20))
    monkeypatch.setattr(video.ffmpeg, "packets", lambda *a: pytest.fail("a frame was read"))
    with pytest.raises(VideoError, match="wide.mp4 is 4112×64; clips up to 4096 pixels a side"):
        video.read_clip(wide)
    with pytest.raises(VideoError, match="long.mp4 is 61 s long; .* at most 60 s"):
        video.read_clip(long)
    with pytest.raises(VideoError, match="many.mp4 is 20.0 s long: at 30 fps that is 600 frames"):
        video.read_frames(many)
    assert header.header(many) == header.Header("h264", 64, 64, 20.0, 30.0)
    with pytest.raises(VideoError, match="notes.txt could not be read as a video"):
        (tmp_path / "notes.txt").write_text("hello")
        header.header(tmp_path / "notes.txt")


def _lavfi(path: Path, source: str, *args: str) -> Path:
    """A clip made by ffmpeg from a lavfi ``source`` (``args``: output options)."""
    import imageio_ffmpeg
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    source, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    *args, str(path)], check=True)
    return path


def test_only_a_real_container_reaches_ffmpeg(tmp_path):
    """A playlist, a concat list or an image pattern is refused from its own bytes, in one
    sentence that is the same whether what it names exists or not (no existence oracle),
    whatever the file is called."""
    real = _lavfi(tmp_path / "real.mp4", "testsrc=s=64x64:r=10:d=2")
    Image.new("RGB", (32, 32)).save(tmp_path / "frame001.png")
    lists = {
        "hls.m3u8": f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{real}\n#EXT-X-ENDLIST\n",
        "hls-missing.mp4": "#EXTM3U\n#EXTINF:2,\n/no/such/file.ts\n#EXT-X-ENDLIST\n",
        "list.ffconcat": f"ffconcat version 1.0\nfile '{real}'\n",
        "list.txt": f"file '{real}'\n",
        "frame%03d.png": (tmp_path / "frame001.png").read_bytes(),
        "dash.mpd": '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'
                    f'<BaseURL>{real}</BaseURL></MPD>',
    }
    said = set()
    for name, body in lists.items():
        path = tmp_path / name
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
        for read in (read_clip, video.read_frames, header.header):
            with pytest.raises(VideoError) as err:
                read(path)
            said.add(str(err.value).replace(name, "NAME"))
    assert said == {"NAME could not be read as a video: only mp4, mov, webm, mkv, avi, mpg, ts, "
                    "mts or gif files are read (not playlists, lists of files or image "
                    "sequences)"}
    assert read_clip(real).n_frames == 20  # real clips still read, whatever they are called
    for name, fmt in (("cam.mts", "mpegts"), ("avchd.m2ts", "mpegts"), ("old.mpg", "mpeg"),
                      ("web.webm", "matroska"), ("clip.avi", "avi"), ("named.m3u8", "mp4")):
        made = _lavfi(tmp_path / name, "testsrc=s=64x64:r=10:d=2", "-f", fmt)
        assert read_clip(made).n_frames == 20, name


def test_a_driver_of_300_frames_is_read_whole(tmp_path):
    """More than 100 picked frames (ffmpeg's select expression is a balanced tree of runs,
    not one flat sum, which ffmpeg refused past about 100 terms)."""
    clip = video.read_frames(_lavfi(tmp_path / "ten.mp4", "testsrc=s=64x48:r=30:d=10"))
    assert len(clip.frames) == 300 and clip.fps == 30
    every_other = video.read_frames(tmp_path / "ten.mp4", fps=15)
    assert len(every_other.frames) == 150
    assert np.abs(np.asarray(every_other.frames[-1], float)
                  - np.asarray(clip.frames[-2], float)).mean() < 3  # frame 298 of the clip
    assert video.ffmpeg.select([1, 2, 3, 7]) == "(between(n\\,1\\,3)+eq(n\\,7))"


def test_a_stream_without_a_length_is_counted_by_a_bounded_read(tmp_path):
    """A Matroska stream written to a pipe has no duration in its header: its frames are
    counted only up to the limit, and a cancel stops the count at once."""
    import imageio_ffmpeg
    path = tmp_path / "live.mkv"
    with open(path, "wb") as f:
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
                        "-i", "testsrc=s=64x64:r=30:d=30", "-c:v", "libx264", "-preset",
                        "ultrafast", "-f", "matroska", "pipe:1"], stdout=f, check=True)
    assert header.header(path).seconds is None
    with pytest.raises(VideoError, match="live.mkv is 6 s long; .* at most 5 s"):
        video.probe(path, max_seconds=5)
    assert video.probe(path, max_seconds=40) == (900, pytest.approx(30.0))

    class Cancelled(Exception):
        pass

    def cancel():
        raise Cancelled

    video._packets.cache_clear()
    with pytest.raises(Cancelled), video.ffmpeg.cancelled_by(cancel):
        video.probe(path, max_seconds=40)
