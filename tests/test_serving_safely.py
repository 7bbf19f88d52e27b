"""The HTTP API exposed as an operator would expose it (the real Cog servers on 127.0.0.1,
synthetic weights), tried as a hostile user would: it reads no file of the server's, a small
clip cannot cost gigabytes, every cheap check comes before the slow work, every message is the
product's own, memory stays flat over a run and a SIGTERM leaves no user's file behind."""
import argparse
import re
import signal
import subprocess
import struct
import threading
import time
import zlib
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from conftest import ROOT, write_clip
from test_cog016 import PYTHON as COG016
from test_cog_server import data_url, get, post, predict, synthetic_server

pytest.importorskip("cog")


@pytest.fixture(scope="module")
def server(reference, tmp_path_factory):
    yield from synthetic_server(tmp_path_factory.mktemp("cog"), reference)


@pytest.fixture(scope="module")
def photo(astronaut, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("in") / "astronaut.jpg"
    astronaut.save(path)
    return data_url(path, "image/jpeg")


def failed(server, timeout: float = 5, **inputs) -> str:
    """The error of a prediction that must fail within ``timeout`` seconds, in Cog's wrapping
    ("Prediction failed: Prediction failed: ErrorClass: sentence") or 0.16's (the sentence)."""
    started = time.perf_counter()
    body = predict(server, **inputs)
    took = time.perf_counter() - started
    assert body["status"] == "failed", body.get("logs")
    assert took < timeout, f"{took:.1f} s to fail: {body['error']}"
    error = body["error"]
    for words in ("Traceback", "weights_only", "DecompressionBomb", "IndexError", "pickle.",
                  "tmp", "/etc", str(ROOT)):
        assert words not in error, error
    return error


def upload(path: Path, mime: str = "application/octet-stream") -> str:
    return data_url(path, mime)


def test_no_input_reads_a_file_of_the_server(server, photo, tmp_path):
    """A plain path in any file input — a system file, a photo that is on the server, one
    that is not — fails in the same words, which tell nothing of the path."""
    on_server = tmp_path / "someone.jpg"
    on_server.write_bytes(b"\xff\xd8 a photo on the server")
    for name in ("image", "anchor_video", "direction_file", "driving_video", "video"):
        errors = {failed(server, **{"image": photo, name: path})
                  for path in ("/etc/hostname", str(on_server), "/no/such/file.jpg")}
        assert errors == {f"Prediction failed: Prediction failed: ServerPathError: {name} must "
                          f"be a file sent with the request (an upload, a URL or a data: URI); "
                          f"paths on the server are not read"}
    for cue in ("video:/etc/hostname:5", "/srv/direction.pt:5"):
        assert "files are not read from the server" in failed(server, image=photo, timeline=cue)


def test_a_clip_is_only_a_clip(server, photo, tmp_path):
    """A playlist, a concat list or a DASH manifest sent as either clip (uploaded as a data:
    URI) is refused from its own bytes before ffmpeg opens it, in one sentence that is the
    same whether what it names is a real video on the server or nothing at all."""
    real = ROOT / "examples" / "drive.mp4"
    lists = {"real.m3u8": f"#EXTM3U\n#EXTINF:2,\n{real}\n#EXT-X-ENDLIST\n",
             "missing.m3u8": "#EXTM3U\n#EXTINF:2,\n/no/such/clip.mp4\n#EXT-X-ENDLIST\n",
             "list.ffconcat": f"ffconcat version 1.0\nfile '{real}'\n",
             "dash.mpd": f'<?xml version="1.0"?><MPD><BaseURL>{real}</BaseURL></MPD>'}
    for name, role in (("anchor_video", "anchor clip"), ("driving_video", "driving clip")):
        errors = set()
        for file, body in lists.items():
            (tmp_path / file).write_text(body)
            errors.add(failed(server, timeout=3, image=photo,
                              **{name: upload(tmp_path / file, "video/mp4")}))
        assert errors == {f"Prediction failed: Prediction failed: VideoError: the {role} could "
                          f"not be read as a video: only mp4, mov, webm, mkv, avi, mpg, ts, "
                          f"mts or gif files are read (not playlists, lists of files or image "
                          f"sequences)"}, errors


def test_every_documented_length_is_read(server, photo, tmp_path):
    """A driver of 300 frames (the limit; ffmpeg refused past 100 picked frames before) and a
    60 s anchor clip are read whole: each passes the work budget and reaches face finding
    (these show no face), in the product's words."""
    for name, seconds, rate, words in (
            ("driving_video", 10, 30, "no face found in 300 of the 300 frames read from the "
                                      "driving clip"),
            ("anchor_video", 60, 2, "no face found in 16 of the 16 frames read from the "
                                    "anchor clip")):
        clip = tmp_path / f"{name}.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
                        "-i", f"color=c=gray:s=96x96:r={rate}:d={seconds}", "-c:v", "libx264",
                        "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True)
        error = failed(server, timeout=60, image=photo, output_size=256,
                       **{name: upload(clip, "video/mp4")})
        assert words in error, error


def test_one_request_cannot_hold_the_worker_for_an_hour(server, photo, tmp_path, astronaut):
    """Each setting within its limit, together about two hours on a 2-core CPU: refused before
    any slow work, with the settings to lower."""
    astronaut.resize((4000, 4000)).save(tmp_path / "big.jpg", quality=60)
    cues = "; ".join(f"text:a person with {{degree}} smile {k}:1" for k in range(16))
    error = failed(server, timeout=15, image=upload(tmp_path / "big.jpg", "image/jpeg"),
                   timeline=cues, frames=300, fidelity="faithful", side_by_side=True)
    assert "BudgetError: this request would take about " in error and \
        "one request may take; most of it is the text anchors" in error, error


def worker_rss_mb(server) -> float:
    """The resident memory of the server's Python worker (its largest child), in MB."""
    rss = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if int(fields["PPid"]) == server.proc.pid and "VmRSS" in fields:
            rss.append(int(fields["VmRSS"].split()[0]) / 1024)
    return max(rss)


def test_a_video_bomb_is_refused_from_its_header(server, photo, tmp_path):
    """2 s of 8192×8192 H.264 (a few hundred kB, 200 MB a frame decoded) as either clip:
    refused from its header before a frame is decoded or the photo is looked at."""
    bomb = tmp_path / "bomb.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=8192x8192:r=1:d=2", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(bomb)], check=True, timeout=120)
    assert bomb.stat().st_size < 2_000_000
    before = worker_rss_mb(server)
    for name, role in (("anchor_video", "anchor clip"), ("driving_video", "driving clip")):
        error = failed(server, timeout=3, image=photo, **{name: upload(bomb, "video/mp4")})
        assert error.endswith(f"VideoError: the {role} is 8192×8192; clips up to 4096 pixels "
                              f"a side are read: scale it down first")
    assert worker_rss_mb(server) - before < 100


def test_cheap_checks_come_before_the_slow_work(server, photo, tmp_path):
    """What needs no model fails in a second or two: a direction file of another shape, an
    anchor clip without a face (before the photo is inverted), lists beyond their bounds."""
    small = tmp_path / "small.pt"
    torch.save(torch.zeros(3, 3), small)
    error = failed(server, timeout=2, image=photo, direction_file=upload(small))
    need = re.search(r"DirectionFileError: the direction file holds a direction of shape "
                     r"\[3, 3\]; this generator needs \[(\d+), (\d+)\]", error)
    assert need, error
    blank = tmp_path / "blank.mp4"
    write_clip(blank, [np.full((96, 96, 3), 128, np.uint8)] * 6)
    error = failed(server, timeout=8, image=photo, anchor_video=upload(blank, "video/mp4"))
    assert "NoFaceError: no face found in 6 of the 6 frames read from the anchor clip" in error
    bounded = [({"mode": "walk", "seeds": "0-9999999"}, "give more than 300 numbers"),
               ({"mode": "circle", "seeds": ",".join(map(str, range(100_000)))},
                "seeds is 588,889 characters long; it may hold at most 2,000"),
               ({"image": photo, "timeline": "; ".join(["smile:1"] * 10_000)},
                "timeline is 89,998 characters long; it may hold at most 4,000"),
               ({"image": photo, "timeline": "; ".join(["smile:10:0-50"] * 5)},
                "the timeline's cues add up to scale 50; keep their sum at most 40")]
    for inputs, words in bounded:
        assert words in failed(server, timeout=2, **inputs)
    # a user's direction file of the right shape is called by its role, not "published"
    good = tmp_path / "good.pt"
    torch.save(torch.randn(1, int(need[1]), int(need[2])) * 0.1, good)
    body = predict(server, image=photo, direction_file=upload(good), frames=2,
                   output_size=64)
    assert body["status"] == "succeeded", body.get("error")
    assert "made with the direction file\n" in body["logs"] and "published" not in body["logs"]


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width × height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                            0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def png_text_bomb() -> bytes:
    """A small PNG with a compressed text chunk that inflates to 20 MB (PIL's limit is 1 MB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    head = png_header(64, 64)
    return head[:33] + chunk(b"zTXt", b"k\0\0" + zlib.compress(b"A" * (20 << 20))) + head[33:]


def test_messages_are_the_products_own(server, photo, astronaut, tmp_path):
    files = {"pickled.pt": {"args": argparse.Namespace(lr=0.1)}, "empty.pt": b"",
             "junk.pt": b"junk"}
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            torch.save(content, tmp_path / name)
    cases = [
        ({"direction_file": upload(tmp_path / "pickled.pt")},
         "DirectionFileError: the direction file holds pickled Python objects, which are "
         "never loaded"),
        ({"direction_file": upload(tmp_path / "empty.pt")},
         "DirectionFileError: the direction file is not a direction file that PyTorch can read"),
        ({"direction_file": upload(tmp_path / "junk.pt")},
         "DirectionFileError: the direction file is not a direction file that PyTorch can read"),
    ]
    for inputs, words in cases:
        assert words in failed(server, image=photo, **inputs)
    (tmp_path / "bomb.png").write_bytes(png_header(100_000, 100_000))
    (tmp_path / "big.png").write_bytes(png_header(9000, 9000))
    astronaut.save(tmp_path / "whole.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:3000])
    (tmp_path / "text-bomb.png").write_bytes(png_text_bomb())
    images = [("bomb.png", "ImageTooLargeError: the photo is too large (10,000 megapixels); the "
                           "limit is 64 megapixels: downscale it first"),
              ("big.png", "ImageTooLargeError: the photo is 9000×9000 (81 megapixels); the "
                          "limit is 64 megapixels: downscale it first"),
              ("cut.jpg", "NotAnImageError: the photo could not be decoded: the file is "
                          "truncated or corrupt; save or export it again"),
              ("text-bomb.png", "NotAnImageError: the photo is not an image file we can read "
                                "(JPEG, PNG, WebP, GIF, BMP, TIFF …)")]
    for name, words in images:
        assert failed(server, image=upload(tmp_path / name, "image/png")).endswith(words)


def test_the_schema_is_served_and_unknown_names_are_dropped(server, photo):
    """coglet reads .cog/openapi_schema.json: /openapi.json answers with the table's inputs,
    and (as the README says) an input name it does not know is dropped before run()."""
    schema = get(server.url + "/openapi.json")
    assert schema["components"]["schemas"]["Input"]["properties"]["scale"]["maximum"] == 10
    body = predict(server, image=photo, smille=3, frames=2, output_size=64)
    assert body["status"] == "succeeded", body.get("error")


def test_memory_stays_flat_over_a_run(server, photo):
    """25 predictions in a row: the worker's memory over the last five within 5 % of the
    fifth to ninth's (the first few fill caches: the plan's paths, the presets, buffers)."""
    rss = []
    for i in range(25):
        body = predict(server, image=photo, frames=3, output_size=[64, 128][i % 2],
                       micromotion=["smile", "aging", "angry"][i % 3])
        assert body["status"] == "succeeded", body.get("error")
        rss.append(worker_rss_mb(server))
    early, late = np.mean(rss[4:9]), np.mean(rss[20:])
    assert late < 1.05 * early, [round(r) for r in rss]


@pytest.mark.parametrize("python", ["0.23", "0.16"])
def test_a_sigterm_leaves_no_users_file(python, reference, photo, tmp_path):
    """Stopped with a SIGTERM, the server leaves nothing in its temp folder: neither the last
    result nor a received input. coglet 0.23 finishes the prediction in flight first, so it
    is stopped mid-prediction; Cog 0.16 hangs when stopped mid-prediction (its event loop
    fails on the cancelled future: upstream, the README says), so it is stopped idle."""
    if python == "0.16" and not COG016.exists():
        pytest.skip(f"{COG016} is absent (make test makes it)")
    servers = synthetic_server(tmp_path, reference, *([str(COG016)] if python == "0.16" else []))
    server = next(servers)
    try:
        assert predict(server, image=photo, frames=2, output_size=64)["status"] == "succeeded"
        if python == "0.23":
            threading.Thread(target=post, daemon=True, args=(
                server.url + "/predictions", {"input": {"image": photo, "frames": 60}})).start()
            deadline = time.time() + 30
            while "/60" not in server.logs() and time.time() < deadline:
                time.sleep(0.2)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(180)
    finally:
        servers.close()
    left = list((tmp_path / "tmp").rglob("*"))
    assert not left, left
