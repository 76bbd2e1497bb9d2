"""An example gamereplay plugin: a win-stay/lose-shift predictor and a (made-up) stag hunt game family.

Installed, it is found through entry points (see ``pyproject.toml``): ``type: wsls`` in a
run config, and ``data.family: stag_hunt``.
"""
