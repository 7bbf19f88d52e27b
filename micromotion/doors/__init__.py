"""What the doors share: ``serving`` (the models loaded for serving, ``serve``, the output
folder), the words for a result (``wording``), Cog's flat inputs (``cog_inputs``), the page's
files, endpoints and tabs (``page_files``, ``page``, ``page_requests``) and its examples
(``examples``), and the command line (``cli``). The doors themselves — ``predict.py``,
``app.py``, ``python -m micromotion``, ``import micromotion`` — only map inputs to a request."""
