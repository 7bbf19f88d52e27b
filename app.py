"""Gradio page (thin door) on the same models. For now it renders the face of a seed; the
micromotion demo arrives with the serving issue. ``python app.py`` serves on 127.0.0.1:7860."""
import gradio as gr

from micromotion.models import load_default_generator
from micromotion.samples import render_seeds

generator = load_default_generator()


def face(seed: float, truncation: float):
    return render_seeds(generator, [int(seed)], truncation)[0]


demo = gr.Interface(face, [gr.Number(0, label="seed", precision=0, minimum=0),
                           gr.Slider(0.1, 1.0, 0.7, label="truncation")],
                    gr.Image(label="face"), title="micromotion — StyleGAN2 faces")

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=7860)
