"""Sustainability scores: the scoring model as data (``model``: the TOML format, its checks and the
score computation; ``default/``: the model shipped with the plugin) and the scores' chart (``chart``:
an SVG rendered on the server by pygal, with no script and no external reference).
"""
