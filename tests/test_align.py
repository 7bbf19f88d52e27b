"""FFHQ alignment of real photos, and every kind of bad image."""
import io

import numpy as np
import pytest
from PIL import Image

from micromotion.media import align
from micromotion.errors import ImageTooLargeError, ImageTooSmallError, NoFaceError, NotAnImageError
from micromotion.media.images import load_image

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut():
    return Image.fromarray(skimage_data.astronaut())


@pytest.fixture(scope="module")
def aligned(astronaut):
    return align.align_face(astronaut, 256)


def eyes(lm):
    return lm[36:42].mean(0), lm[42:48].mean(0)


def test_eyes_land_at_the_ffhq_positions(aligned):
    """Landmarks re-detected on the aligned crop (an independent measurement) put the eye
    midpoint where the FFHQ geometry says, within 2 px of 256, with the eyes level (±1.5°)."""
    lm = aligned.landmarks
    (el, er), mouth = eyes(lm), (lm[48] + lm[54]) / 2
    e2e, e2m = np.hypot(*(er - el)), np.hypot(*(mouth - (el + er) / 2))
    half = max(2 * e2e, 1.8 * e2m)  # |x| of the quad, in original pixels
    expected = np.array([128.0, 128.0 - 0.1 * e2m / (2 * half) * 256]) - 0.5  # pixel centres
    lm2 = align.align_face(aligned.image, 256).landmarks  # re-detected on the crop
    l2, r2 = eyes(lm2)
    assert np.abs((l2 + r2) / 2 - expected).max() < 2.0
    assert abs(np.degrees(np.arctan2(*(r2 - l2)[::-1]))) < 1.5
    assert abs(np.hypot(*(r2 - l2)) - e2e * 256 / (2 * half)) < 3.0


def test_result_fields(aligned, astronaut):
    assert aligned.image.size == (256, 256) and aligned.image.mode == "RGB"
    assert aligned.quad.shape == (4, 2) and aligned.landmarks.shape == (68, 2)
    x0, y0, x1, y1 = aligned.box
    assert 0 <= x0 < x1 <= astronaut.width and 0 <= y0 < y1 <= astronaut.height
    # the quad is a square around the face, in original pixels
    sides = np.hypot(*np.diff(np.vstack([aligned.quad, aligned.quad[:1]]), axis=0).T)
    assert np.allclose(sides, sides[0], rtol=1e-6)
    assert aligned.n_faces >= 1 and 0 <= aligned.face_index < aligned.n_faces
    # dlib also finds a faint "face" on the suit (score ~0.1): one person, no note about it
    assert aligned.people == 1 and not any("faces found" in n for n in aligned.notes)


def test_two_people_are_noted(astronaut):
    pair = Image.fromarray(np.concatenate([np.asarray(astronaut)] * 2, axis=1))
    a = align.align_face(pair, 64)
    assert a.people == 2 and "most confident" in a.notes[-1]


def test_a_small_face_and_a_black_and_white_photo_are_said(astronaut):
    small = astronaut.resize((300, 300))  # the face about 100 px across
    a = align.align_face(small, 256, name="small.jpg")
    assert any(n.startswith("the face in small.jpg is ") and "enlarged to 256 px" in n
               for n in a.notes), a.notes
    assert not align.align_face(astronaut, 256).notes  # 173 px: enough
    from micromotion.media.paste import PasteBack
    gray = astronaut.convert("L").convert("RGB")
    paste = PasteBack(gray, [align.align_face(gray, 256).quad])
    noise = np.random.default_rng(0).integers(0, 256, (1, 256, 256, 3), dtype=np.uint8)
    out = paste([noise])[0].astype(int)
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert "the photo is black and white" in paste.notes[-1]
    assert not PasteBack(astronaut, [align.align_face(astronaut, 256).quad]).gray


def test_output_size_1024(astronaut):
    a = align.align_face(astronaut, 1024)
    assert a.image.size == (1024, 1024)


def diff(a, b):
    return np.abs(np.asarray(a.image, np.float32) - np.asarray(b.image, np.float32)).mean()


def test_stable_under_exif_rotation(astronaut, aligned):
    """Pixels stored rotated, with the EXIF tag saying how to turn them upright."""
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    astronaut.transpose(Image.Transpose.ROTATE_90).save(buf, "PNG", exif=exif)
    rotated = align.align_face(buf.getvalue(), 256)
    assert diff(rotated, aligned) < 0.5


def test_stable_under_2x_resize(astronaut, aligned):
    big = astronaut.resize((astronaut.width * 2, astronaut.height * 2), Image.BICUBIC)
    a = align.align_face(big, 256)
    assert np.abs(a.quad / 2 - aligned.quad).max() < 3.0  # pixels of the original
    assert diff(a, aligned) < 4.0  # mean uint8 levels


def test_large_photo_is_detected_on_a_downscaled_copy(astronaut, aligned):
    big = astronaut.resize((2400, 2400), Image.BICUBIC)  # above DETECT_MAX_SIDE
    a = align.align_face(big, 256)
    assert np.abs(a.quad * 512 / 2400 - aligned.quad).max() < 4.0


def test_landmarks_read_from_the_faces_part_are_the_whole_photos(astronaut):
    """The predictor is handed a face's part of the photo, not all of it: the same landmarks,
    to the pixel — a face found, moved boxes, and boxes over the photo's edges."""
    import dlib
    photo = Image.new("RGB", (1400, 900), (90, 100, 110))
    photo.paste(astronaut, (880, 380))  # a face near the right and bottom edges
    whole = np.asarray(photo)
    (x0, y0, x1, y1), _ = align.detect_faces(photo)[0]
    boxes = [(x0, y0, x1, y1), (x0 - 40, y0 + 30, x1 + 70, y1 + 90), (x0 + 300, y0 + 250,
             x1 + 420, y1 + 300), (-30, -20, 80, 90), (1300, 800, 1460, 950)]
    for box in boxes:
        shape = align._Models.get()[1](whole, dlib.rectangle(*box))
        assert align.landmarks_at(photo, box).tolist() == [[p.x, p.y] for p in shape.parts()]


def test_blank_image_has_no_face():
    with pytest.raises(NoFaceError, match="no face found in the image; use a photo"):
        align.align_face(Image.new("RGB", (400, 300), (128, 128, 128)))


@pytest.mark.parametrize("mode", ["RGBA", "L", "LA", "P", "CMYK", "I;16"])
def test_image_modes_load_as_rgb(astronaut, mode):
    img = astronaut.convert(mode) if mode != "I;16" else Image.fromarray(
        (np.asarray(astronaut.convert("L"), np.uint16) * 257))
    loaded = load_image(img)
    assert loaded.image.mode == "RGB" and loaded.image.size == astronaut.size
    if mode in ("L", "I;16"):
        gray = np.asarray(astronaut.convert("L"), np.int16)
        assert np.abs(np.asarray(loaded.image, np.int16)[..., 0] - gray).max() <= 1


def test_transparent_pixels_become_white():
    img = Image.new("RGBA", (32, 32), (10, 20, 30, 0))
    assert load_image(img).image.getpixel((0, 0)) == (255, 255, 255)


def test_animated_gif_uses_first_frame(astronaut):
    frames = [astronaut.resize((128, 128)), Image.new("RGB", (128, 128), "red")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    loaded = load_image(buf.getvalue(), "clip.gif")
    assert loaded.notes == ["clip.gif is animated (2 frames); the first frame was used"]
    assert np.asarray(loaded.image)[..., 0].mean() < 200  # not the red frame


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("hello")
    with pytest.raises(NotAnImageError, match="not an image file"):
        load_image(p)
    with pytest.raises(NotAnImageError, match="does not exist"):
        load_image(tmp_path / "missing.png")


def test_truncated_jpeg(astronaut):
    buf = io.BytesIO()
    astronaut.save(buf, "JPEG")
    with pytest.raises(NotAnImageError, match="truncated"):
        load_image(buf.getvalue()[: len(buf.getvalue()) // 2])


def test_one_pixel_image():
    with pytest.raises(ImageTooSmallError, match="only 1×1 pixels"):
        align.align_face(Image.new("RGB", (1, 1)))


def test_huge_png_is_refused_before_decoding():
    """A 20000×20000 PNG (a few hundred KB compressed, 1.2 GB decoded) is refused from its header."""
    buf = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buf, "PNG", optimize=False, compress_level=1)
    with pytest.raises(ImageTooLargeError, match="20000×20000|too large"):
        load_image(buf.getvalue())


def test_bad_arrays_and_sizes(astronaut):
    with pytest.raises(NotAnImageError, match="uint8 array"):
        load_image(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="size"):
        align.align_face(astronaut, 0)


def test_faces_found_in_several_threads_at_once_are_found_as_one_at_a_time():
    """The page numbers a clip's faces while an edit follows another clip's face: detection
    from three threads at once, on photos of four sizes, finds what it finds one at a time
    (dlib's detector alone crashed the process; it runs in its own process here so that a
    crash fails this test, not the suite)."""
    import subprocess
    import sys
    script = """
import threading
from PIL import Image
from skimage import data
from micromotion.media.align import detect_faces
base = Image.fromarray(data.astronaut())
photos = [base.resize((s, s * 3 // 4)) for s in (320, 480, 640, 800)]
alone = [detect_faces(p) for p in photos]
differ = []
def find(k):
    for j in range(12):
        i = (k + j) % 4
        if detect_faces(photos[i]) != alone[i]:
            differ.append(i)
threads = [threading.Thread(target=find, args=(k,)) for k in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(len(alone[0]), len(differ))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "0"], done.stdout
