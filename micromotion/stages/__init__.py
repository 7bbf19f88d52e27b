"""The use cases (``pipeline``: animate, transfer, latent video), the steps they share
(``steps``: align, invert, tune, render, measure) and their typed results (``results``). Each
takes the loaded models, a checked request and one run context (``micromotion.run.Run``)."""
