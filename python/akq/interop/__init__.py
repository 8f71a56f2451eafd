"""Bridges to the rest of the Akida world: the akida runtime (.fbz, boards) and legacy cnn2snn .h5 files.

`akida` (engine side, numpy only) and `legacy_h5` (Keras side) are imported on first use.
"""
