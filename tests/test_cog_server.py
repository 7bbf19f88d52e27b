"""The real Cog server (cog + coglet from PyPI) on 127.0.0.1 serving predict.py on synthetic
weights: Replicate's inputs in, an mp4 out; bad inputs fail with one clear sentence and the
server stays up; missing weights offline fail setup with the reason in its logs."""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, read_back
from pretend_cpu import PRETEND_AVX2_ENV

pytest.importorskip("cog")
pytest.importorskip("coglet")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def post(url, body, timeout=600):
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class CogServer:
    """``python -m cog.server.http`` from the venv of ``python`` (the test's own: Cog 0.23),
    on a pretend AVX2-only CPU whatever this one is (tests/pretend_cpu.py)."""

    def __init__(self, tmp: Path, python: str = sys.executable, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.log = open(tmp / "server.log", "w+")
        venv_bin = str(Path(python).parent)
        self.proc = subprocess.Popen(
            [python, "-m", "cog.server.http", "--host", "127.0.0.1"], cwd=ROOT,
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
                 "COG_PREDICT_TYPE_STUB": "predict.py:Predictor", "PORT": str(self.port),
                 "TMPDIR": str(tmp / "tmp"), **PRETEND_AVX2_ENV, **env})

    def wait(self, until=("READY", "SETUP_FAILED"), timeout=180) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, self.logs()
            try:
                health = get(self.url + "/health-check")
                if health.get("status") in until:
                    return health
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"server not {until} in {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        self.log.flush()
        return (self.tmp / "server.log").read_text()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def synthetic_server(tmp: Path, reference: Path, python: str = sys.executable):
    """A ready server on synthetic weights (a generator: stopped when closed)."""
    (tmp / "tmp").mkdir()
    s = CogServer(tmp, python, MICROMOTION_SYNTHETIC="1", MICROMOTION_WEIGHTS=str(reference))
    try:
        health = s.wait()
        assert health["status"] == "READY", s.logs()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def server(reference, tmp_path_factory):
    yield from synthetic_server(tmp_path_factory.mktemp("cog"), reference)


@pytest.fixture(scope="module")
def photo(astronaut, tmp_path_factory):
    path = tmp_path_factory.mktemp("in") / "astronaut.jpg"
    astronaut.save(path)
    return data_url(path, "image/jpeg")


def predict(server, **inputs):
    server.wait(("READY",), timeout=60)  # the last prediction's slot may still be closing
    status, body = post(server.url + "/predictions", {"input": inputs})
    assert status == 200, body
    return body


def decode_output(body, tmp_path) -> Path:
    out = body["output"]
    assert out.startswith("data:video/mp4;base64,") or out.startswith("data:"), out[:60]
    path = tmp_path / "out.mp4"
    path.write_bytes(base64.b64decode(out.split(",", 1)[1]))
    return path


def test_health(server):
    health = get(server.url + "/health-check")
    assert health["status"] == "READY" and health["setup"]["status"] == "succeeded"


def test_replicate_inputs_give_an_mp4(server, photo, tmp_path):
    body = predict(server, image=photo, micromotion="smile", scale=3)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    meta, frames = read_back(decode_output(body, tmp_path))
    # the original's video (100 frames at 30 fps), pasted back into the 512 px photo
    assert frames.shape == (100, 512, 512, 3) and meta["fps"] == 30
    assert "invert: 5/5" in body["logs"] and "render: 100/100" in body["logs"]
    assert "note: precision auto: rendering on " in body["logs"]  # fp32 on an AVX2-only CPU
    assert "bf16 not used: oneDNN has no bf16 on this CPU (torch reports AVX2)" in body["logs"]


def test_new_inputs(server, photo, tmp_path):
    body = predict(server, image=photo, frames=8, fps=12, curve="loop", output_size=256,
                   side_by_side=True, paste_back="off")
    assert body["status"] == "succeeded", body.get("error")
    meta, frames = read_back(decode_output(body, tmp_path))
    assert frames.shape == (8, 256, 512, 3) and meta["fps"] == 12


def test_timeline_and_motion_transfer(server, photo, tmp_path, astronaut):
    from conftest import write_clip
    body = predict(server, image=photo, frames=6, output_size=256, paste_back="off",
                   timeline="smile:3:f0-f3:ease; aging:2:60-100")
    assert body["status"] == "succeeded", body.get("error")
    assert read_back(decode_output(body, tmp_path))[1].shape == (6, 256, 256, 3)
    clip = tmp_path / "drive.mp4"
    write_clip(clip, [np.asarray(astronaut.rotate(2 * i)) for i in range(6)], fps=12)
    body = predict(server, image=photo, driving_video=data_url(clip, "video/mp4"), fps=12,
                   output_size=256)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    meta, frames = read_back(decode_output(body, tmp_path))
    assert frames.shape == (6, 512, 512, 3) and meta["fps"] == 12  # pasted back, driver's timing


def test_your_video_is_edited_with_its_sound(server, astronaut, tmp_path):
    """Replicate's ``video`` input: the clip itself comes back, its face moved over ``span``,
    its frame count, rate, size and sound kept; inputs an edit does not read are said."""
    from test_edit import pan
    clip = tmp_path / "pan.mp4"
    pan(astronaut, clip, n=12)
    body = predict(server, video=data_url(clip, "video/mp4"), span="0.3-0.6", micromotion="smile",
                   output_size=64, frames=20)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    meta, frames = read_back(decode_output(body, tmp_path))
    assert frames.shape == (12, 240, 320, 3) and meta["fps"] == 15
    assert meta.get("audio_codec") == "aac"
    assert "note: frames was not used: a video edit does not read it" in body["logs"]
    assert "The face in the video smiles from 0.3 s to 0.6 s" in body["logs"]
    body = predict(server, video=data_url(clip, "video/mp4"), span="2-3")
    assert body["status"] == "failed" and "Traceback" not in body["error"]
    assert "span 2-3 starts after the video ends (it is 0.8 s long)" in body["error"], body


@pytest.mark.parametrize("inputs,message", [
    ({"text_template": "a person smiling"}, "has no {degree}"),
    ({"text_template": "a {degree} smile", "direction_file": "data:application/octet-stream;base64,AA=="},
     "give only one of text_template, anchor_video, direction_file and timeline"),
    ({"direction_file": "data:application/octet-stream;base64," + base64.b64encode(b"junk").decode()},
     "is not a direction file that PyTorch can read"),
])
def test_bad_inputs_fail_clearly_and_the_server_stays_up(server, photo, inputs, message):
    body = predict(server, image=photo, output_size=256, frames=4, **inputs)
    assert body["status"] == "failed" and message in body["error"], body
    assert "Traceback" not in body["error"]
    assert server.wait(("READY",), timeout=30)["status"] == "READY"  # back from BUSY


def test_photo_without_a_face(server, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((300, 300, 3), 128, np.uint8)).save(blank)
    body = predict(server, image=data_url(blank, "image/png"))
    assert body["status"] == "failed" and "NoFaceError: no face found in the photo;" in body["error"]
    # its log lines are kept: coglet 0.23.1 answers a failed prediction without them (Cog
    # 0.16 keeps them in the answer: test_cog016.py) but logs them under its id
    assert any('"align: 0/1"' in line and body["id"] in line for line in server.logs().splitlines())
    assert server.wait(("READY",), timeout=30)["status"] == "READY"  # back from BUSY


def test_choices_made_for_the_user_are_said(server, astronaut, tmp_path):
    pair = tmp_path / "pair.jpg"
    Image.fromarray(np.concatenate([np.asarray(astronaut)] * 2, axis=1)).save(pair)
    body = predict(server, image=data_url(pair, "image/jpeg"), frames=2, output_size=256)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    assert re.search(r"note: 2 faces are in the photo; face [12] moved \(the most confident, "
                     r"numbered from the left\); faces all moves every one", body["logs"])
    assert re.search(r"so the video is 1024×512; the face is \d+ px across there, so it was "
                     r"rendered at 256 px", body["logs"])
    assert "made with the published eyesClose direction" in body["logs"]
    body = predict(server, image=data_url(pair, "image/jpeg"), frames=2, output_size=256,
                   faces="all")  # both people
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    assert "Each of faces 1 and 2 closes its eyes" in body["logs"]
    assert "note: 2 faces in the photo (numbered from the left); faces 1 and 2 moved" \
        in body["logs"]
    assert read_back(decode_output(body, tmp_path))[1].shape == (2, 512, 1024, 3)
    body = predict(server, image=data_url(pair, "image/jpeg"), faces="3")
    assert body["status"] == "failed" and "Traceback" not in body["error"]
    assert "faces 3: the photo has 2 faces, numbered 1 to 2 from left to right" in body["error"]


@pytest.mark.parametrize("inputs", [
    {"scale": 11}, {"micromotion": "wink"}, {"frames": 1000}, {"output_size": 300},
    {"curve": "zigzag"}, {"paste_back": "maybe"}, {"mode": "spiral"}, {"radius": 20},
])
def test_the_schema_refuses_what_it_knows(server, photo, inputs):
    """.cog/openapi_schema.json (what `cog build` puts in the image) is read by coglet, so a
    value out of the table's limits or choices is refused before run() with a 422 naming it."""
    status, body = post(server.url + "/predictions", {"input": {"image": photo, **inputs}})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "input", *inputs], body


@pytest.mark.parametrize("inputs,message", [
    ({"timeline": "smile:5:0-400"}, "the cue runs from 0% to 400% of the video: the start must "
                                    "be below the end, both from 0% to 100%"),
    ({"timeline": "smile:abc:x-y"}, "in the cue 'smile:abc:x-y', 'abc' is not a scale"),
])
def test_run_validates_what_the_schema_cannot(server, photo, inputs, message):
    body = predict(server, image=photo, **inputs)
    assert body["status"] == "failed" and message in body["error"], body
    assert server.wait(("READY",), timeout=30)["status"] == "READY"  # back from BUSY


@pytest.mark.parametrize("inputs,shape", [
    ({"mode": "walk", "seeds": "1,2", "frames_per_segment": 3, "loop": True}, (6, 256, 256, 3)),
    ({"mode": "coarse", "seeds": "1-3", "frames_per_segment": 2, "interpolation": "slerp"},
     (5, 256, 256, 3)),
    ({"mode": "circle", "frames": 6, "radius": 0.5}, (6, 256, 256, 3)),
])
def test_latent_videos_without_a_photo(server, tmp_path, inputs, shape):
    body = predict(server, output_size=256, fps=10, **inputs)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    meta, frames = read_back(decode_output(body, tmp_path))
    assert frames.shape == shape and meta["fps"] == 10


def test_latent_video_around_the_photo(server, photo, tmp_path):
    body = predict(server, image=photo, mode="fine", seeds="4,5", frames_per_segment=3,
                   output_size=256)
    assert body["status"] == "succeeded", body.get("error") or body.get("logs")
    assert read_back(decode_output(body, tmp_path))[1].shape == (4, 256, 256, 3)
    assert "invert: 5/5" in body["logs"]  # the photo is the held face


@pytest.mark.parametrize("inputs,message", [
    ({}, "image is required: a photo with a face (or pick a latent-video mode"),
    ({"mode": "walk", "seeds": "one,two"}, "seeds must look like '0-3,7'"),
    ({"mode": "walk", "seeds": "0-400", "frames_per_segment": 2}, "more than 300"),
    ({"mode": "circle", "seeds": "3"}, "a circle needs two seeds"),
])
def test_bad_latent_video_inputs(server, inputs, message):
    body = predict(server, **inputs)
    assert body["status"] == "failed" and message in body["error"], body
    assert server.wait(("READY",), timeout=30)["status"] == "READY"


def test_no_temp_files_left(server, photo):
    """After successful and failed predictions, at most the last result is kept on disk."""
    predict(server, image=photo, output_size=256, frames=3)
    predict(server, image=photo, text_template="no degree here")
    files = [p for p in (server.tmp / "tmp").rglob("*") if p.is_file()]
    assert len(files) <= 1, files


def test_missing_weights_offline_fail_setup(tmp_path):
    (tmp_path / "tmp").mkdir()
    s = CogServer(tmp_path, MICROMOTION_WEIGHTS=str(tmp_path / "empty"), MICROMOTION_OFFLINE="1")
    try:
        health = s.wait()
        assert health["status"] == "SETUP_FAILED"
        logs = s.logs() + json.dumps(health)
        assert "stylegan2-ffhq-config-f.pt (381,462,551 bytes" in logs
        assert "MICROMOTION_SYNTHETIC=1" in logs
    finally:
        s.stop()
