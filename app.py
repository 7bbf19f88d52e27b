"""Gradio page (a thin door on ``micromotion.pipeline``): photo + preset → video.
``python app.py`` serves on 127.0.0.1:7860. The full demo comes with the serving issue."""
import tempfile

import gradio as gr

from micromotion.direction import PRESETS
from micromotion.errors import MicromotionError
from micromotion.pipeline import Micromotion
from micromotion.weights import synthetic_requested

mm = Micromotion.synthetic_models() if synthetic_requested() else Micromotion.load()


def animate(image, motion, strength, progress=gr.Progress()):
    if image is None:
        raise gr.Error("upload a photo with a face first")
    out = tempfile.NamedTemporaryFile(suffix=".mp4", delete=False).name
    try:
        return str(mm.animate(image, motion, out, strength=strength,
                              progress=lambda s, i, n: progress(i / n, desc=s)))
    except MicromotionError as exc:
        raise gr.Error(str(exc)) from None


demo = gr.Interface(animate, [gr.Image(type="pil", label="face photo"),
                              gr.Dropdown(list(PRESETS), value="eyesClose", label="micromotion"),
                              gr.Slider(1, 10, 5, step=1, label="strength")],
                    gr.Video(label="micromotion"), title="micromotion")

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=7860)
