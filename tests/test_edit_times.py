"""When a video's frames show (issue 32: the output is the clip itself, its sound kept): a
phone films at a variable rate, and a clip trimmed without re-encoding keeps frames before its
start that are never shown. The edit keeps each frame's own time and counts only the frames
that show."""
import subprocess

import numpy as np
import pytest

from micromotion.doors.serving import serve
from micromotion.latents.span import edit_weights
from micromotion.media import ffmpeg, stream, video
from micromotion.media.stream import footage
from micromotion.media.stream import frames as read_frames
from micromotion.requests.request import Edit
from conftest import write_clip
from test_edit import FPS, pan, psnr

DROPPED = range(6, 9)  # frames a phone did not film (0.40–0.53 s): a variable rate


@pytest.fixture(scope="module")
def filmed(astronaut, tmp_path_factory):
    """The pan (24 frames at 15 fps, a tone on its sound) with frames 6–8 left out, the others
    keeping their times — as a phone's clip whose rate drops in low light."""
    folder = tmp_path_factory.mktemp("times")
    steady = folder / "steady.mp4"
    pan(astronaut, steady)
    vfr = folder / "phone.mp4"
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-i", str(steady), "-vf",
                    f"select='not(between(n,{DROPPED[0]},{DROPPED[-1]}))'", "-fps_mode", "vfr",
                    "-c:a", "copy", str(vfr)], check=True)
    kept = [k for k in range(24) if k not in DROPPED]
    return steady, vfr, [k / FPS for k in kept]


def test_a_variable_rate_keeps_each_frames_time_and_its_sound(mm, filmed, tmp_path):
    """Each edited frame shows when it was filmed: written at the average rate (as it was),
    the frames after the gap came 0.2 s early, ahead of their sound, and the span's seconds
    fell on the wrong frames."""
    _, vfr, times = filmed
    clip = footage(vfr, "phone.mp4")
    assert clip.n_frames == len(times) and np.allclose(clip.times, times, atol=1e-3)
    r = serve(Edit(str(vfr), "smile", span="0.8-1.2", output_size=64), mm, tmp_path / "o.mp4")
    out = footage(r.video, "o.mp4")
    assert out.n_frames == len(times) and np.allclose(out.times, times, atol=1e-3), out.times
    assert out.head.sounds == ("aac",) and abs(out.seconds - clip.seconds) < 0.1
    moved = (edit_weights(times, "0.8-1.2") > 0).numpy()
    assert r.how.moved == moved.sum() and [t for t, m in zip(times, moved) if m][0] >= 0.8
    given, written = (list(read_frames(c)) for c in (clip, out))
    for k in np.flatnonzero(~moved):  # the frames outside the span: the filmed ones, in place
        assert psnr(written[k], given[k]) >= 35, k


def test_a_clip_trimmed_without_re_encoding_counts_the_frames_it_shows(mm, filmed, tmp_path):
    """A trim that copies the stream (a phone's or an editor's quick trim) keeps the frames
    from the last keyframe before its start, marked not to be shown. They were counted: the
    edit said the file was cut short and its sound drifted."""
    steady = filmed[0]
    trimmed = tmp_path / "trim.mp4"
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-ss", "0.5", "-i", str(steady), "-c",
                    "copy", str(trimmed)], check=True)
    clip = footage(trimmed, "trim.mp4")
    shown = sum(1 for _ in read_frames(clip))
    assert 0 < clip.n_frames == shown < 24
    r = serve(Edit(str(trimmed), "smile", span="0.7-", output_size=64), mm,  # to its end
              tmp_path / "o.mp4")
    assert not any("cut short" in n for n in r.notes), r.notes
    assert footage(r.video, "o.mp4").n_frames == shown


def test_a_driving_clips_frames_are_read_by_their_times(filmed):
    """A clip whose motion is taken (a driver, anchors) at 15 fps: frame k is the one showing
    at k / 15 s — through the gap, the last frame filmed before it (by count, the frames after
    it came 0.2 s early)."""
    _, vfr, times = filmed
    clip = video.read_frames(vfr, fps=FPS)
    assert len(clip.frames) == 24
    shown = [np.asarray(f) for f in clip.frames]
    filmed_frames = [np.asarray(f) for f in video.read_clip(vfr, max_frames=30).frames]
    for k in range(24):
        at = max(i for i, t in enumerate(times) if t <= k / FPS + 1e-6)
        assert np.array_equal(shown[k], filmed_frames[at]), k


def test_a_video_that_starts_after_its_sound_still_does(mm, filmed, tmp_path):
    """A clip whose first frame shows 0.3 s into its sound (a trim that kept the sound from
    before its first keyframe): the edited frames start 0.3 s in as well. Written from 0 s,
    every frame came 0.3 s ahead of its sound."""
    steady = filmed[0]
    late = tmp_path / "late.mp4"
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-itsoffset", "0.3", "-i", str(steady),
                    "-i", str(steady), "-map", "0:v", "-map", "1:a", "-c", "copy", str(late)],
                   check=True)
    clip = footage(late, "late.mp4")
    assert clip.times[0] == pytest.approx(0.3, abs=1e-3)
    r = serve(Edit(str(late), "smile", span="0.9-1.3", output_size=64), mm, tmp_path / "o.mp4")
    out = footage(r.video, "o.mp4")
    assert np.allclose(out.times, clip.times, atol=1e-3), out.times[:3]
    assert (r.how.start, r.how.end) == (0.9, 1.3)
    moved = (edit_weights(clip.times, "0.9-1.3") > 0).numpy()
    assert min(t for t, m in zip(clip.times, moved) if m) >= 0.9  # seconds as a player counts


@pytest.mark.parametrize("suffix, codec", [("avi", "mpeg4"), ("mpg", "mpeg2video"),
                                           ("ts", "libx264"), ("m2ts", "libx264"),
                                           ("mkv", "libx264"),
                                           ("gif", "gif")])
def test_every_container_gives_each_frame_its_time(tmp_path, suffix, codec):
    """Frame times from the packets of each container read: avi and MPEG program streams
    leave some frames' showing times out (their frames come a packet's usual length apart:
    the program stream's decoding times repeat one and skip the next), the others give them;
    every frame counted is a frame decoded."""
    path = tmp_path / f"clip.{suffix}"
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=s=64x48:r=10:d=3", "-c:v", codec,
                    *(["-bf", "2"] if codec != "gif" else []), str(path)], check=True)
    clip = footage(path, path.name)
    assert clip.n_frames == 30 == sum(1 for _ in read_frames(clip))
    assert np.allclose(np.diff(clip.times), 0.1, atol=2e-3) and clip.times[0] < 0.05


CODED = {  # the ways a keyframe's neighbours are coded that a seek can miss (24 fps, 2 s)
    "b-frames.mp4": ["-c:v", "libx264", "-g", "12", "-bf", "3"],
    "open-gop.mov": ["-c:v", "libx265", "-tag:v", "hvc1",
                     "-x265-params", "log-level=error:open-gop=1:keyint=12:bframes=4"],
    "fragmented.mp4": ["-c:v", "libx264", "-g", "12", "-movflags", "+frag_keyframe+empty_moov"],
    "open-gop.mkv": ["-c:v", "libx264", "-x264-params", "open-gop=1:keyint=10:bframes=3"],
}


@pytest.mark.parametrize("name", list(CODED))
def test_a_read_from_a_late_frame_seeks_and_gives_the_same_frames(tmp_path, name, monkeypatch):
    """A span late in a long clip is read without decoding the clip up to it (previews in
    seconds): ffmpeg seeks to the keyframe before it. Every frame read so equals the frame
    read from the start — also those shown just before a keyframe but coded after it
    (B-frames, HEVC's open GOP), which a seek to the frame's own time skipped."""
    path = tmp_path / name
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=s=96x64:r=24:d=2", *CODED[name], str(path)], check=True)
    clip = footage(path, name)
    assert clip.n_frames == 48 and clip.keys[0] == 0 and len(clip.keys) > 2, clip.keys
    seek = [stream._seek(clip, k)[1] for k in range(48)]
    assert seek[-1] == clip.keys[-1] > 0  # a late read starts at its keyframe, not at 0
    with monkeypatch.context() as m:
        m.setattr(stream, "SEEKS", ())  # read from the start
        whole = [f.copy() for f in read_frames(clip)]
    for k in range(1, 48):
        assert np.array_equal(next(read_frames(clip, k, k + 1)), whole[k]), k


def test_a_file_with_two_video_streams_is_read_from_the_one_a_player_shows(tmp_path):
    """A second video stream (a 1 fps still before the clip, the clip marked default; a cover
    picture after it): every read — the header, the count, the frames — takes the stream a
    player shows. The header and count came from the first stream while ffmpeg decoded the
    other: 4 frames of the clip at the still's size and rate."""
    clip, still = tmp_path / "clip.mp4", tmp_path / "still.png"
    run = [ffmpeg.exe(), "-y", "-v", "error"]
    subprocess.run([*run, "-f", "lavfi", "-i", "testsrc2=s=96x64:r=15:d=2", "-c:v", "libx264",
                    str(clip)], check=True)
    subprocess.run([*run, "-f", "lavfi", "-i", "color=red:s=200x200", "-frames:v", "1",
                    str(still)], check=True)
    two, covered = tmp_path / "two.mp4", tmp_path / "covered.mp4"
    subprocess.run([*run, "-loop", "1", "-i", str(still), "-i", str(clip), "-map", "0",
                    "-map", "1", "-c:v:0", "mjpeg", "-r:v:0", "1", "-t", "2", "-c:v:1", "copy",
                    "-disposition:v:0", "0", "-disposition:v:1", "default", str(two)], check=True)
    subprocess.run([*run, "-i", str(clip), "-i", str(still), "-map", "0", "-map", "1",
                    "-c:v:0", "copy", "-c:v:1", "mjpeg", "-disposition:v:1", "attached_pic",
                    str(covered)], check=True)
    whole = [f.copy() for f in read_frames(footage(clip, "clip.mp4"))]
    for path in (two, covered):
        read = footage(path, path.name)
        assert (read.width, read.height, read.n_frames, read.fps) == (96, 64, 30, 15), path.name
        frames = list(read_frames(read))
        assert all(np.array_equal(a, b) for a, b in zip(frames, whole)) and len(frames) == 30


def test_a_camcorders_interlaced_clip_is_read_as_a_player_shows_it(astronaut, tmp_path):
    """25 interlaced frames a second woven from 50 moving ones (the top field at each even
    instant), as a camcorder films: each frame read is that instant, deinterlaced, not two
    instants combed together (20.5 dB from it, read as it was stored)."""
    moving = [np.asarray(astronaut.crop((4 * k, 60, 4 * k + 320, 300))) for k in range(40)]
    source, woven = tmp_path / "p50.mp4", tmp_path / "i25.mp4"
    write_clip(source, moving, fps=50)
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-i", str(source), "-vf",
                    "tinterlace=mode=interleave_top,setfield=tff", "-c:v", "libx264", "-crf",
                    "12", "-flags", "+ildct+ilme", "-x264-params", "tff=1", str(woven)],
                   check=True)
    clip = footage(woven, "i25.mp4")
    assert (clip.n_frames, clip.fps) == (20, 25)
    read = list(read_frames(clip))
    assert len(read) == 20
    assert min(psnr(f, moving[2 * k]) for k, f in enumerate(read) if k) >= 28  # 30.8 here


def test_an_anamorphic_clip_is_read_as_wide_as_it_shows(mm, astronaut, tmp_path):
    """The pan stored squeezed (240 × 240 pixels 4:3 wide, as HDV stores 1920 × 1080 in 1440 ×
    1080): read, edited and written as it shows, 320 × 240 with square pixels — it was read
    squeezed, and its faces with it."""
    steady = tmp_path / "pan.mp4"
    given = pan(astronaut, steady)
    squeezed = tmp_path / "hdv.mp4"
    subprocess.run([ffmpeg.exe(), "-y", "-v", "error", "-i", str(steady), "-vf",
                    "scale=240:240,setsar=4/3", "-c:v", "libx264", "-crf", "12", "-c:a", "copy",
                    str(squeezed)], check=True)
    clip = footage(squeezed, "hdv.mp4")
    assert (clip.width, clip.height) == (320, 240)
    assert min(psnr(f, g) for f, g in zip(read_frames(clip), given)) >= 28
    r = serve(Edit(str(squeezed), "smile", span="0.6-1.0", output_size=64), mm,
              tmp_path / "out.mp4")
    out = footage(r.video, "out.mp4")
    assert (out.width, out.height, out.n_frames) == (320, 240, 24)


def _with_tracks(tmp_path, second: list[str]) -> tuple:
    """A silent mp4, and its frames in an mkv with two sound tracks: 440 Hz mono in AAC, then
    880 Hz PCM made by ``second`` (ffmpeg's filter options)."""
    silent, two = tmp_path / "silent.mp4", tmp_path / "two.mkv"
    run = [ffmpeg.exe(), "-y", "-v", "error"]
    subprocess.run([*run, "-f", "lavfi", "-i", "testsrc2=s=96x64:r=15:d=1", "-c:v", "libx264",
                    str(silent)], check=True)
    subprocess.run([*run, "-i", str(silent), "-f", "lavfi", "-i", "sine=frequency=440:d=1",
                    "-f", "lavfi", "-i", "sine=frequency=880:d=1", *second, "-map", "0:v",
                    "-map", "1", "-map", "[b]", "-c:v", "copy", "-c:a:0", "aac",
                    "-c:a:1", "pcm_s16le", str(two)], check=True)
    return silent, footage(two, "two.mkv")


def _streams(path) -> list[str]:
    said = subprocess.run([ffmpeg.exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr
    return [line.split("Audio: ")[1] for line in said.splitlines() if "Audio: " in line]


def test_a_clip_with_two_sound_tracks_keeps_both_in_their_order(tmp_path):
    """A camera's clip with a second sound track (a commentary, a second microphone): both
    are put back, the first still the one a player plays; the one an mp4 cannot hold as it is,
    made AAC."""
    silent, clip = _with_tracks(tmp_path, ["-filter_complex", "[2:a]aformat=channel_layouts="
                                           "stereo[b]"])
    assert clip.head.sounds == ("aac", "pcm_s16le")
    notes = stream.with_sound(silent, clip, tmp_path / "out.mp4")
    assert notes == ["the sound of two.mkv (pcm_s16le) was made AAC, which an mp4 holds"]
    assert footage(tmp_path / "out.mp4", "out.mp4").head.sounds == ("aac", "aac")
    first, second = _streams(tmp_path / "out.mp4")
    assert "mono" in first and "(default)" in first and "stereo" in second


def test_a_sound_track_an_mp4_cannot_hold_leaves_the_first(tmp_path):
    # sixteen channels: more than an AAC track holds
    layout = "|".join(f"c{k}=c0" for k in range(16))
    silent, clip = _with_tracks(tmp_path, ["-filter_complex", f"[2:a]pan=hexadecagonal|"
                                           f"{layout}[b]"])
    notes = stream.with_sound(silent, clip, tmp_path / "out.mp4")
    assert notes == ["two.mkv has 2 sound tracks: only the first could be put in the mp4"]
    assert footage(tmp_path / "out.mp4", "out.mp4").head.sounds == ("aac",)
    assert not silent.exists()


def test_at_most_so_many_sound_tracks_are_put_back(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "MOST_SOUNDS", 1)
    silent, clip = _with_tracks(tmp_path, ["-filter_complex", "[2:a]anull[b]"])
    notes = stream.with_sound(silent, clip, tmp_path / "out.mp4")
    assert notes == ["two.mkv has 2 sound tracks: the first 1 were kept"]
