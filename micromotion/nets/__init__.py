"""The networks and how this machine runs them: the encoders behind one interface
(``encoders``), CLIP's guide (``clip_guidance``), LPIPS, ArcFace's identity (``identity``),
pivotal tuning (``tuning``), seeded synthetic weights (``synthetic``), each stage's verified
paths (``plan``), and ``models.Models``, which holds them all, loaded once per process."""
