"""Every face in the picture (``faces``): a group photo made here from the astronaut twice, at
two sizes, side by side — numbered from the left, the chosen faces moved in one pass and pasted
back apart, the rest of the photo kept (synthetic weights)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import read_back, write_clip
from micromotion.doors import wording
from micromotion.doors.serving import serve
from micromotion.errors import NoFaceError, OptionError, VideoError
from micromotion.media import align, faces, track
from micromotion.media.stream import footage, frames as clip_frames
from micromotion.media.paste import PasteBack
from micromotion.media.track import follow_faces
from micromotion.requests import budget
from micromotion.requests.checks import check_request
from micromotion.stages.edit import clip_faces
from micromotion.requests.request import Animate, Edit, LatentVideo, Transfer
from micromotion.nets.identity import LOOK_ALIKE, Identity
from micromotion.nets.tuning import steps_for
from micromotion.stages.results import MovedFace

SMALL = dict(frames=3, output_size=256)


@pytest.fixture(scope="module")
def group(astronaut, tmp_path_factory):
    """1024 × 512: the astronaut at 512 px (face 1, 173 px across) and at 300 px (face 2,
    101 px across), on grey."""
    photo = Image.new("RGB", (1024, 512), (120, 130, 140))
    photo.paste(astronaut, (0, 0))
    photo.paste(astronaut.resize((300, 300), Image.LANCZOS), (600, 150))
    path = tmp_path_factory.mktemp("group") / "group.jpg"
    photo.save(path, quality=95)
    return path


def test_faces_are_numbered_from_the_left_and_shown(group):
    found = faces.find(group)
    assert len(found.faces) == 2
    (b1, _), (b2, _) = found.faces
    assert b1[2] < 300 < 600 < b2[0]  # face 1 the left one
    shown = faces.numbered(found)
    assert shown.size == (768, 384)
    left, right = np.asarray(shown)[:, :380], np.asarray(shown)[:, 420:]
    yellow = lambda a: ((a[..., 0] > 230) & (a[..., 1] > 190) & (a[..., 2] < 40)).sum()  # noqa
    assert yellow(left) > 100 and yellow(right) > 50  # a box and a number on each face


def test_every_face_of_a_phones_group_photo_is_found(astronaut, tmp_path):
    # 4032 × 3024, as a phone takes it: seven people in a row, faces about 90 px across (a
    # class photo's), which a 1024 px copy made 23 px, under what dlib finds ("no face")
    photo = Image.new("RGB", (4032, 3024), (120, 130, 140))
    for k in range(7):
        photo.paste(astronaut, (224 + 512 * k, 1200))
    photo.save(tmp_path / "class.jpg", quality=90)
    found = faces.find(tmp_path / "class.jpg", "class.jpg")
    assert len(found.faces) == 7
    assert [round((b[0] + b[2]) / 2 / 512) for b, _ in found.faces] == list(range(1, 8))


@pytest.mark.parametrize("given, parsed", [("one", "one"), (" ALL ", "all"), ("3, 1,3", [1, 3]),
                                           ("", "one"), ([2, 1], [1, 2])])
def test_faces_takes_one_all_or_numbers(given, parsed):
    assert faces.parse_faces(given) == parsed


@pytest.mark.parametrize("given, said", [
    ("0", "faces must be one, all or face numbers such as 1,3"),
    ("two", "faces must be one, all or face numbers"),
    ("1;2", "faces must be one, all or face numbers"),
    ("99999999999", "faces must be one, all or face numbers"),
    ("1,2,3,4,5,6,7,8,9", "faces names 9 faces; at most 8 move in one request here"),
    ("1," * 60, "faces is 120 characters long; it may hold at most 100"),
    (3, "faces must be text, got 3")])
def test_a_wrong_faces_is_one_sentence(given, said):
    with pytest.raises(OptionError, match=said):
        faces.parse_faces(given)


def test_an_operator_sets_the_most_faces(group, monkeypatch):
    monkeypatch.setenv("MICROMOTION_FACES", "1")
    with pytest.raises(OptionError, match="faces names 2 faces; at most 1 move"):
        faces.parse_faces("1,2")
    chosen, notes = faces.pick(faces.find(group), "all")
    assert [a.face_index + 1 for a in chosen] == [1]  # the largest
    assert "at most 1 face moves in one request here: the largest moved, face 2 was left " \
           "alone" in notes[-1]


def test_a_crowd_of_alike_faces_moves_from_the_left(monkeypatch):
    monkeypatch.setenv("MICROMOTION_FACES", "3")
    assert faces.largest([100, 101, 99.5, 100.2, 100.1]) == [0, 1, 2]  # alike: the first
    assert faces.largest([100, 101, 99.5, 130, 100.1]) == [0, 1, 3]  # the larger, then alike
    assert faces.largest([100, 200, 90, 300]) == [0, 1, 3]
    assert faces.largest([5, 4]) == [0, 1]


@pytest.mark.parametrize("numbers, said", [([2], "face 2"), ([1, 3], "faces 1 and 3"),
                                           ([1, 2, 3, 4, 6, 9, 10], "faces 1–4, 6, 9 and 10")])
def test_a_crowds_face_numbers_are_said_in_ranges(numbers, said):
    assert faces.named(numbers) == said


@pytest.mark.parametrize("low, said", [([2], "face 2 shows"), ([1, 2, 3], "faces 1–3 show")])
def test_the_faces_that_look_less_alike_agree_with_their_verb(low, said):
    moved = [MovedFace(k, None, Identity(0.2 if k in low else 0.9, ())) for k in range(1, 5)]
    assert f"Below {LOOK_ALIKE:.2f}, {said} a look-alike" in wording._alike_each(moved, tuned=False)


def test_a_face_that_is_not_there_is_said_before_any_inversion(mm, group, tmp_path,
                                                               monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("inverted")
    monkeypatch.setattr(mm.encoder, "invert", never)
    with pytest.raises(OptionError, match=r"^faces 3 and 5: group.jpg has 2 faces, numbered 1 "
                                          r"to 2 from left to right$"):
        serve(Animate(str(group), "smile", faces="3,5", **SMALL), mm, tmp_path / "x.mp4")
    with pytest.raises(OptionError, match="needs paste_back auto or on"):
        check_request(Animate(str(group), faces="all", paste_back="off"))
    check_request(Animate(str(group), faces="2", paste_back="off"))  # one face: its square


def test_faces_too_small_for_the_encoder_are_left_alone(group):
    found = faces.find(group, "group.jpg")
    chosen, notes = faces.pick(found, "all", size=512)  # an encoder of 512 needs 128 px
    assert [a.face_index + 1 for a in chosen] == [1]
    assert "face 2 of group.jpg was left alone: under 128 px across, too small for the " \
           "encoder" in notes
    with pytest.raises(NoFaceError, match="the chosen faces of group.jpg are all under 128 px"):
        faces.pick(found, [2], size=512)


def test_faces_all_moves_each_face_and_keeps_the_rest(mm, group, tmp_path):
    glimpses = []
    r = serve(Animate(str(group), "smile", faces="all", **SMALL), mm, tmp_path / "all.mp4",
              preview=glimpses.append)
    assert [f.number for f in r.faces] == [1, 2] and r.aligned is r.faces[0].aligned
    last = glimpses[-1]  # each face at the middle, said so: not "first, middle and last"
    assert last.what == "faces" and last.rendered and last.captions == ("face 1, middle",
                                                                        "face 2, middle")
    said = wording.plainly(r)
    assert said.startswith("Each of faces 1 and 2 smiles;") and "Identity, face by face: 1: " \
        in said
    assert r.notes[0] == "2 faces in group.jpg (numbered from the left); faces 1 and 2 moved"
    assert re.search("the faces are 17[34], 10[12] px across there, so they were rendered at "
                     "256, 128 px", r.notes[-1])
    photo = np.asarray(Image.open(group)).astype(int)
    _, frames = read_back(r.video)
    assert frames.shape == (3, 512, 1024, 3)
    paste = PasteBack(Image.open(group), [f.aligned.quad for f in r.faces])
    outside = paste.photo_mask == 0
    for frame in frames:  # through H.264 4:2:0: about equal, not bit-exact
        assert np.abs(frame.astype(int) - photo)[outside].mean() < 2.5
    for place, share in zip(paste.places, paste.shares):
        y0, y1, x0, x1 = place.box
        inside = share > 0.99
        moved = np.abs(frames[-1, y0:y1, x0:x1].astype(int) - photo[y0:y1, x0:x1])[inside]
        assert moved.mean() > 10  # each face is the generator's now


def test_faces_2_moves_only_the_second_face(mm, group, tmp_path):
    r = serve(Animate(str(group), "smile", faces="2", **SMALL), mm, tmp_path / "two.mp4")
    assert [f.number for f in r.faces] == [2]
    assert "2 faces in group.jpg (numbered from the left); face 2 moved" in r.notes
    photo = np.asarray(Image.open(group)).astype(int)
    _, frames = read_back(r.video)
    assert np.abs(frames[-1, :, :512].astype(int) - photo[:, :512]).mean() < 2.5  # face 1
    region = np.abs(frames[-1, 150:450, 600:900].astype(int) - photo[150:450, 600:900])
    assert region.max() > 60


def test_close_faces_never_paint_over_one_another():
    """Two faces whose masks overlap: each pixel's shares sum to at most 1, a face gives
    nothing where its own mask is 0, and in the overlap the nearer face's share is larger."""
    photo = np.zeros((200, 300, 3), np.uint8) + np.uint8([100, 128, 160])  # in colour
    square = lambda x, y, s: np.array([[x, y], [x, y + s], [x + s, y + s], [x + s, y]], float)  # noqa
    paste = PasteBack(photo, [square(20, 20, 150), square(120, 30, 150)])
    total = paste.photo_mask
    assert total.max() <= 1 + 1e-5
    (a, b), (pa, pb) = paste.shares, paste.places
    red = np.zeros((1, 64, 64, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((1, 64, 64, 3), np.uint8)
    blue[..., 2] = 255
    out = paste([red, blue])[0].astype(int)
    ca, cb = pa.centre.astype(int), pb.centre.astype(int)
    assert out[ca[1], ca[0], 0] > 200 and out[ca[1], ca[0], 2] < 60  # face 1's own: red
    assert out[cb[1], cb[0], 2] > 200 and out[cb[1], cb[0], 0] < 60  # face 2's own: blue
    mid = (ca + cb) // 2
    near_a, near_b = out[mid[1], mid[0] - 12], out[mid[1], mid[0] + 12]
    assert near_a[0] > near_a[2] and near_b[2] > near_b[0]  # the overlap: split by nearness
    share_a = np.zeros(photo.shape[:2], np.float32)  # where face 2's mask is 0, face 1 alone
    y0, y1, x0, x1 = pa.box
    share_a[y0:y1, x0:x1] = a
    only_a = share_a > 0
    y0, y1, x0, x1 = pb.box
    only_a[y0:y1, x0:x1] &= b == 0
    alone = photo + share_a[..., None] * (np.float32([255, 0, 0]) - photo)  # as if alone
    assert only_a.any() and np.abs(out - np.rint(alone))[only_a].max() <= 1


def test_each_face_performs_a_transfer(mm, group, tmp_path):
    lat = torch.randn(4, *mm.shape) * 0.05
    r = serve(Transfer(str(group), driving_latents=lat, faces="all", **SMALL), mm,
              tmp_path / "t.mp4")
    assert [f.number for f in r.faces] == [1, 2]
    assert wording.plainly(r).startswith("Each of faces 1 and 2 performs the motion of the "
                                         "given latents")
    assert read_back(r.video)[1].shape == (4, 512, 1024, 3)


def test_the_budget_counts_the_faces(mm, group):
    def cost(**how):
        req = check_request(Animate(str(group), "smile", **SMALL, **how), mm.shape)
        return budget.estimate(req, mm.plan, mm.plan.resolve("auto"), steps_for(mm.device))
    one, every = cost(faces="1"), cost(faces="all")
    assert every.parts["inverting the photos"] == pytest.approx(
        2 * one.parts["inverting the photos"])
    # each at the size it fills: face 1 at 256 px, face 2 (101 px across) at 128 — half the
    # time (a quarter of the pixels, and the part every size costs alike: budget.frame)
    assert every.parts["rendering 3 frames at 256, 128 px, 2 faces"] == pytest.approx(
        1.5 * one.parts["rendering 3 frames at 256 px"])
    assert "use fewer faces" in every.lower["inverting the photos"]
    off = cost(faces="2", paste_back="off")  # its square, at output_size
    assert off.parts["rendering 3 frames at 256 px"] == one.parts["rendering 3 frames at 256 px"]
    small = cost(faces="2")  # pasted back: at the size it fills
    assert small.parts["rendering 3 frames at 128 px"] == pytest.approx(
        one.parts["rendering 3 frames at 256 px"] / 2)


def test_the_budget_leaves_out_faces_too_small_to_move(mm, astronaut, tmp_path):
    """A face found but too small for the encoder is left alone by the use case, so the
    budget does not count it: faces all costs what the one face that moves costs (it counted
    both, and could refuse a request that fits)."""
    photo = Image.new("RGB", (1024, 512), (120, 130, 140))
    photo.paste(astronaut, (0, 0))
    photo.paste(astronaut.resize((180, 180), Image.LANCZOS), (700, 200))  # its crop < 64 px
    path = tmp_path / "far.jpg"
    photo.save(path, quality=95)
    assert len(faces.find(path).faces) == 2

    def cost(faces):
        req = check_request(Animate(str(path), "smile", faces=faces, **SMALL), mm.shape)
        return budget.estimate(req, mm.plan, mm.plan.resolve("auto"), steps_for(mm.device))
    assert cost("all").parts == cost("1").parts


def test_an_edits_budget_renders_each_face_at_the_size_it_fills(mm, astronaut, tmp_path):
    """A 720p shot of two people: the budget renders each chosen face at the size it fills in
    the first moving frame, as the edit will — not a face of half the frame's height at 512
    px, which made a phone's clip cost four times its work and be refused."""
    shot = Image.new("RGB", (1280, 720), (120, 130, 140))
    shot.paste(astronaut, (100, 100))  # its crop about 250 px: 256
    shot.paste(astronaut.resize((300, 300), Image.LANCZOS), (800, 200))  # about 100: 128
    path = write_clip(tmp_path / "720p.mp4", [np.asarray(shot)] * 3, fps=10)

    def cost(**how):
        req = check_request(Edit(str(path), "smile", **how), mm.shape)
        return budget.estimate(req, mm.plan, mm.plan.resolve("auto"), steps_for(mm.device))
    unit = budget.rates(mm.plan, mm.plan.resolve("auto"))
    one, every = cost(), cost(faces="all")
    assert one.parts["rendering 3 frames at 256 px"] == pytest.approx(3 * 2 * unit.frame(256))
    assert every.parts["rendering 3 frames at 256, 128 px, 2 faces"] == pytest.approx(
        3 * 2 * (unit.frame(256) + unit.frame(128)))
    assert cost(faces="2", blend="face").parts["rendering 3 frames at 128 px"] == \
        pytest.approx(3 * unit.frame(128))
    # a number the frame does not show: the edit's own sentence; here, one face of half the
    # frame's height
    assert "rendering 3 frames at 512 px" in cost(faces="3").parts


def test_each_chosen_face_of_a_video_is_followed_and_moved(mm, two_clip, tmp_path):
    """faces all: both people followed and moved in the same frames (blend face, so the
    synthetic render shows plainly), the grey between them as filmed; faces 2 follows the
    right-hand one; a number the span's first frame does not show is said before any
    inversion."""
    path, given = two_clip
    both = follow_faces(given, 15.0, faces="all")
    assert both.numbers == [1, 2] and both.seen == 2 and all(t.found.all() for t in both.tracks)
    right = follow_faces(given, 15.0, faces=[2])
    assert right.numbers == [2] and right.tracks[0].quads[:, :, 0].min() > 320
    glimpses = []
    r = serve(Edit(str(path), "smile", faces="all", span="0.3-0.5", blend="face",
                   output_size=64), mm, tmp_path / "both.mp4", preview=glimpses.append)
    assert [f.number for f in r.faces] == [1, 2]
    look = glimpses[-1]  # each face where the motion is strongest, as filmed and as edited
    assert look.what == "look" and [c.split(" at ")[0] for c in look.captions] == [
        "face 1", "face 1", "face 2", "face 2"] and look.captions[3].endswith(", as edited")
    assert re.fullmatch(r"2 faces in two.mp4 at 0\.\d s \(numbered from the left\); faces 1 "
                        r"and 2 moved", r.notes[0]), r.notes
    said = wording.plainly(r)
    assert said.startswith("Each of faces 1 and 2 in two.mp4 smiles from 0.3 s"), said
    assert all(len(f.identity.frames) == 3 for f in r.faces)  # each face, filmed and edited
    assert re.search(r"Identity as filmed and as edited, face by face \(the least of its "
                     r"first, middle and last moved frames\): 1: -?\d\.\d\d, 2: -?\d\.\d\d",
                     said), said
    _, out = read_back(r.video)
    _, src = read_back(path)
    assert out.shape == src.shape
    change = [np.abs(out[k].astype(int) - src[k]).mean(-1) for k in range(len(src))]
    moved = [k for k in range(len(src)) if change[k][45:95, 110:160].mean() > 10]
    assert moved and all(change[k][45:95, 460:510].mean() > 10 for k in moved)  # together
    assert max(c[:, 315:335].mean() for c in change) < 2.5  # between them: as filmed
    with pytest.raises(OptionError, match=r"faces 3: two.mp4 at 0\.\d s has 2 faces, "
                                          r"numbered 1 to 2 from left to right"):
        serve(Edit(str(path), "smile", faces="3", span="0.3-0.5"), mm, tmp_path / "x.mp4")


def test_three_faces_of_a_video_move_together(mm, astronaut, tmp_path):
    """Three people, the astronaut three times in a row: each followed and moved (fidelity
    faithful's four pivots shared among them: one each — an edit of three faces or more
    divided by zero there)."""
    row = Image.new("RGB", (830, 300), (120, 130, 140))
    for k in range(3):
        row.paste(astronaut.resize((256, 256)), (10 + 272 * k, 20))
    frames = [np.asarray(row.crop((2 * k, 0, 2 * k + 816, 280))) for k in range(2)]
    path = write_clip(tmp_path / "three.mp4", frames, fps=10)
    r = serve(Edit(str(path), "smile", faces="all", blend="face", output_size=64), mm,
              tmp_path / "three-moved.mp4")
    assert [f.number for f in r.faces] == [1, 2, 3]
    _, out = read_back(r.video)
    change = np.abs(out.astype(int) - np.stack(frames)).mean(-1)
    assert all(change[t, 50:140, 95 + 272 * k:170 + 272 * k].mean() > 10
               for t in range(2) for k in range(3))


def test_faces_of_a_video_too_small_for_the_encoder_are_left_alone(group):
    """As for a photo: in a clip, a face whose crop is nowhere in it as large as the encoder
    needs is left alone with a note; all of them too small is one sentence."""
    frame = np.asarray(Image.open(group))
    followed = follow_faces([frame] * 3, 15.0, faces="all")
    kept, notes = followed.big_enough(512, "group.mp4 at 0.0 s")  # 512 needs 128 px
    assert kept.numbers == [1] and len(kept.tracks) == 1 and kept.seen == 2
    assert notes == ["face 2 of group.mp4 at 0.0 s was left alone: under 128 px across, too "
                     "small for the encoder"]
    assert followed.big_enough(256, "group.mp4") == (followed, [])
    with pytest.raises(NoFaceError, match="the chosen faces of group.mp4 are all under 1024 px "
                                          "across, too small to move: use a video where"):
        followed.big_enough(4096, "group.mp4")


def test_a_video_shows_the_faces_an_edit_numbers(two_clip, clip_of_nobody, tmp_path):
    """What the page boxes and numbers after a video's upload: the faces of the span's first
    frame, named by its time; nothing for a clip without a face; a file that is no video is
    the edit's own sentence."""
    path, _ = two_clip
    group = clip_faces(str(path), "two.mp4")
    assert group.name == "two.mp4 at 0.0 s" and len(group.faces) == 2
    assert group.faces[0][0][0] < 320 < group.faces[1][0][0]  # numbered from the left
    assert clip_faces(str(path), "two.mp4", "0.3-0.5").name == "two.mp4 at 0.3 s"
    assert clip_faces(str(clip_of_nobody), "grey.mp4") is None
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all")
    with pytest.raises(VideoError):
        clip_faces(str(fake), "fake.mp4")


def test_a_wide_shot_numbers_its_small_faces_too(astronaut, tmp_path, monkeypatch):
    # 1920 × 1080: one person near (face about 90 px across) and four further off (about 53
    # px, quads about 100: large enough to move), which a 1024 px copy made 28 px, unseen
    shot = Image.new("RGB", (1920, 1080), (120, 130, 140))
    shot.paste(astronaut, (40, 400))
    for k in range(4):
        shot.paste(astronaut.resize((300, 300)), (600 + 320 * k, 300))
    frames = [np.asarray(shot)] * 3
    path = write_clip(tmp_path / "wide.mp4", frames, fps=10)
    searched, search = [], track.detect_all_faces
    monkeypatch.setattr(track, "detect_all_faces", lambda img: searched.append(1) or search(img))
    assert len(clip_faces(str(path), "wide.mp4").faces) == 5
    # the page's preview, the budget and the edit number the same frame: searched once
    clip = footage(str(path), "wide.mp4")
    assert len(budget._clip_sizes(Edit(str(path), "smile", faces="all"), clip, 0)) == 5
    followed = follow_faces(clip_frames(clip, 0, 3), 10.0, faces=[2, 5])
    assert len(searched) == 1
    assert followed.numbers == [2, 5] and followed.seen == 5
    assert all(t.found.all() for t in followed.tracks)  # each followed in every frame
    assert follow_faces(frames, 10.0, faces=[2, 5]).numbers == [2, 5]  # other pixels: anew
    assert len(searched) == 2


def test_a_4k_shots_faces_are_found_though_its_small_copy_shows_none(astronaut, tmp_path):
    # 3840 px wide, four faces about 90 px across: 24 px on the small copy, which finds none
    shot = Image.new("RGB", (3840, 1080), (120, 130, 140))
    for k in range(4):
        shot.paste(astronaut, (200 + 900 * k, 300))
    frames = [np.asarray(shot)] * 3
    assert not align.detect_faces(shot)
    path = write_clip(tmp_path / "4k.mp4", frames, fps=10)
    assert len(clip_faces(str(path), "4k.mp4").faces) == 4
    followed = follow_faces(frames, 10.0, faces="all")
    assert followed.numbers == [1, 2, 3, 4] and followed.at == 0
    assert all(t.found.all() for t in followed.tracks)


def test_a_4k_shots_faces_that_come_into_view_later_are_found(astronaut, monkeypatch):
    # the span starts on an empty frame: every WHOLE_EVERY-th frame is searched whole until
    # faces show (here every 3rd: the faces come in at the 4th frame, 0.3 s)
    monkeypatch.setattr(track, "WHOLE_EVERY", 3)
    shot = Image.new("RGB", (3840, 1080), (120, 130, 140))
    empty = np.asarray(shot)
    for k in range(2):
        shot.paste(astronaut, (600 + 1400 * k, 300))
    followed = follow_faces([empty] * 3 + [np.asarray(shot)] * 2, 10.0, faces="all")
    assert followed.at == 3 and followed.numbers == [1, 2]
    assert all(t.found.tolist() == [False] * 3 + [True] * 2 for t in followed.tracks)


def test_style_mixing_through_each_face_of_a_photo(mm, group, tmp_path):
    r = serve(LatentVideo("coarse", image=str(group), seeds="1,2", frames_per_segment=2,
                          faces="all", output_size=256), mm, tmp_path / "mix.mp4")
    assert [f.number for f in r.faces] == [1, 2] and len(r.aligned) == 2
    assert read_back(r.video)[1].shape == (3, 512, 1024, 3)  # pasted back into the photo
    assert wording.plainly(r).startswith("Coarse style mixing through seeds 1, 2")
    lone = check_request(LatentVideo("coarse", seeds="1,2", faces="all"))
    assert lone.faces == "one" and "faces was not used: the style mixing has no photo" \
        in lone.notes
    assert check_request(LatentVideo("walk", image=str(group), faces="all")).faces == "one"
