"""W+ without a model loaded: directions and their files (``direction``, with robust PCA in
``rpca`` and where each came from in ``provenance``), directions from labelled latents
(``labels``), seeds' faces (``samples``), walks and circles through W+ (``interpolate``) and a
timeline's composed path (``timeline``)."""
