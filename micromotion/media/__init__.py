"""Pixels in and out: photos (``images``), clips (``video``, their containers told from their
bytes by ``ffmpeg``), the FFHQ alignment and tracking of a face (``align``), rendering W+ into
frames and an mp4 (``render``), pasting the face back into its photo (``paste``) and the
glimpses a request shows before its video (``preview``). Below the latents and the nets."""
