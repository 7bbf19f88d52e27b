"""The Gradio page (`python app.py`) on synthetic weights: driven by a real headless Chromium
(Debian's, through Playwright's driver) and called through gradio_client."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, read_back

pytest.importorskip("gradio")
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def page_url(reference, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "MICROMOTION_SYNTHETIC": "1", "MICROMOTION_WEIGHTS": str(reference),
                 "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                assert time.time() < deadline, log.read_text()
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def photo(astronaut, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    astronaut.save(path)
    return path


def table(rows):
    """The timeline table as the API takes it."""
    return {"headers": ["motion", "strength", "start", "end", "curve"], "data": rows}


def call(url, image, **overrides):
    from gradio_client import Client, handle_file
    args = dict(image=handle_file(str(image)), source="preset", micromotion="smile",
                text_template="a person with {degree} smile", anchor_seed=0, anchor_video=None,
                direction_file=None, timeline=table([["smile", 5, 0, 3, "linear"]]), scale=3,
                frames=4, curve="linear", fps=10, output_size=256, side_by_side=False,
                paste_back="off")
    args.update(overrides)
    return Client(url, verbose=False).predict(**args, api_name="/generate")


def test_gradio_client_gets_a_video(page_url, photo):
    video, aligned, anchors, info = call(page_url, photo, frames=5, fps=10)
    path = video["video"] if isinstance(video, dict) else video
    meta, frames = read_back(path)
    assert frames.shape == (5, 256, 256, 3) and meta["fps"] == 10
    assert Image.open(aligned).size == (256, 256)
    assert anchors == [] and info == "Made with the published smile direction"


def test_gradio_client_gets_clear_errors(page_url, photo, tmp_path):
    from gradio_client.exceptions import AppError
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    with pytest.raises(AppError, match="no face found in blank.png") as e:
        call(page_url, blank)
    assert "/tmp" not in str(e.value) and "gradio" not in str(e.value)  # no server path
    with pytest.raises(AppError, match="has no \\{degree\\}"):
        call(page_url, photo, source="text", text_template="a smile")
    video, *_ = call(page_url, photo, frames=2)  # the page still works
    assert video


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def test_page_in_chromium(browser, page_url, photo):
    page = browser.new_page()
    page.goto(page_url)
    page.locator("input[type=file]").first.set_input_files(str(photo))
    frames = page.get_by_label("number input for Frames", exact=True)
    frames.fill("4")
    frames.press("Enter")
    page.get_by_role("button", name="Generate").click()
    video = page.locator("video[src]").first
    video.wait_for(timeout=240_000)
    page.wait_for_function("() => { const v = document.querySelector('video[src]');"
                           " return v && v.readyState >= 1 && v.duration > 0; }", timeout=60_000)
    assert page.get_by_text("How it was made").count() >= 1
    page.close()


def test_page_shows_errors(browser, page_url, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    page = browser.new_page()
    page.goto(page_url)
    page.locator("input[type=file]").first.set_input_files(str(blank))
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("no face found").first.wait_for(timeout=120_000)
    page.close()


def call_latent(url, **overrides):
    from gradio_client import Client
    args = dict(mode="walk", image=None, seeds="1,2", interpolation="cubic",
                frames_per_segment=3, loop=False, source_seed=0, radius=1, frames=6,
                truncation=0.7, fps=10, output_size=256)
    args.update(overrides)
    return Client(url, verbose=False).predict(**args, api_name="/latent_video")


def test_gradio_client_gets_latent_videos(page_url, photo):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    video, info = call_latent(page_url)
    meta, frames = read_back(video["video"] if isinstance(video, dict) else video)
    assert frames.shape == (4, 256, 256, 3) and meta["fps"] == 10
    assert info == "Made with a walk through seeds 1, 2, 4 frames"
    video, info = call_latent(page_url, mode="circle", image=handle_file(str(photo)))
    assert read_back(video["video"] if isinstance(video, dict) else video)[1].shape[0] == 6
    assert info.startswith("Made with an equal-step circle through seeds 1, 2, 6 frames; steps")
    with pytest.raises(AppError, match="seeds must look like"):
        call_latent(page_url, seeds="a,b")


def test_latent_videos_tab_in_chromium(browser, page_url):
    page = browser.new_page()
    page.goto(page_url)
    page.get_by_role("tab", name="Latent videos").click()
    per_segment = page.get_by_label("number input for Frames per segment", exact=True)
    per_segment.fill("2")
    per_segment.press("Enter")
    page.get_by_role("button", name="Make the video").click()
    page.wait_for_function("() => [...document.querySelectorAll('video[src]')].some("
                           "v => v.readyState >= 1 && v.duration > 0)", timeout=240_000)
    page.close()


def test_gradio_client_timeline_and_transfer(page_url, photo, tmp_path, astronaut):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from conftest import write_clip
    video, _, _, info = call(page_url, photo, source="timeline", frames=5, timeline=table(
        [["smile", 3, 0, 2, "ease"], ["aging", 2, 2, 4, "linear"]]))
    assert read_back(video["video"] if isinstance(video, dict) else video)[1].shape[0] == 5
    assert info.startswith("Made with a timeline of the published smile direction at strength 3")
    with pytest.raises(AppError, match="the cue's end must be an integer from 1 to 3"):
        call(page_url, photo, source="timeline", timeline=table([["smile", 3, 0, 50, "ease"]]))
    clip = tmp_path / "drive.mp4"
    write_clip(clip, [np.asarray(astronaut.rotate(2 * i)) for i in range(5)], fps=10)
    video, info = Client(page_url, verbose=False).predict(
        image=handle_file(str(photo)), driving_video=handle_file(str(clip)), strength=1,
        neutral_frame=0, keep_fps=True, fps=30, output_size=256, side_by_side=False,
        paste_back="auto", api_name="/transfer")
    meta, frames = read_back(video["video"] if isinstance(video, dict) else video)
    assert frames.shape == (5, 512, 512, 3) and meta["fps"] == 10
    assert "the motion of drive.mp4, 5 frames at 10 fps, moves W+ layers" in info
    assert "Note: the moving face was put back into the photo, so the video is 512×512" in info
