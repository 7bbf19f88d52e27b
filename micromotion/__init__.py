"""micromotion: one face photo → a video of that face moving (CPAL 2024, "Decoding Micromotion
in Low-dimensional Latent Spaces from StyleGAN"). Stages live one per module; the doors
(predict.py, app.py, the CLI) only call them."""

__version__ = "0.1.0"
