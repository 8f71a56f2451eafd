"""The reference's single-layer NP-count sweeps (docs/spec G) against the mapper's capacity rule.

Each cell is a model InputData(D0, D1, C) -> one Convolutional / SeparableConvolutional layer (3x3... 7x7,
stride 1, same padding, 4-bit activations), mapped with hw_only=True: the number of NPs, or the refusal
(TB "Filter size is too big to fit in a CNP", NE "not enough NPs available", C1 "With one input channel,
the number of neurons per NP / 8 must be even").

The rule (csrc/akq/device/capacity.cpp, docs/spec D.5.1) was measured on other single layers, not copied
from these tables; it must reproduce every cell.

The cells are mapped through the core (`_core.map_model` on a ModelSpec without weights): the largest layers
here would need up to 100 MB of zero weights through the public API, which maps the same ModelSpec.
"""

import akq
import pytest
from akq import _core
from akq.errors import HardwareError

TB, NE, C1 = "TB", "NE", "C1"
REFUSALS = {TB: "Filter size is too big to fit in a CNP", NE: "not enough NPs available",
            C1: "With one input channel, the number of neurons per NP / 8 must be even"}

# (table kind, kernel size, weights bits, C for the dims tables) -> (columns, {row: cells})
# conv/sep tables: input 16x16xC, rows C, columns F. dims tables: C = F fixed, rows D0, columns D1.
SWEEPS = {
    ("conv", 1, 1, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        128: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        256: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        512: [2, 2, 2, 2, 2, 4, 6, 12, 22],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 1, 2, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        128: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        256: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        512: [2, 2, 2, 2, 2, 4, 6, 12, 22],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 1, 4, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        128: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        256: [1, 1, 1, 1, 1, 2, 3, 6, 11],
        512: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 3, 1, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        128: [1, 1, 1, 1, 1, 1, 2, 4, 8],
        256: [1, 1, 1, 1, 2, 3, 5, 9, 18],
        512: [2, 2, 2, 4, 8, 14, 26, 52, NE],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 3, 2, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 1, 2, 4, 8],
        128: [1, 1, 1, 1, 1, 2, 4, 8, 16],
        256: [1, 1, 1, 2, 3, 5, 10, 19, 37],
        512: [2, 2, 4, 8, 16, 32, 64, NE, NE],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 3, 4, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 4, 7],
        64: [1, 1, 1, 1, 1, 2, 4, 8, 15],
        128: [1, 1, 1, 1, 2, 4, 8, 16, 32],
        256: [1, 1, 2, 4, 8, 16, 32, 64, NE],
        512: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 5, 1, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        64: [1, 1, 1, 1, 1, 2, 3, 5, 10],
        128: [1, 1, 1, 1, 2, 3, 5, 10, 19],
        256: [1, 1, 1, 2, 3, 6, 11, 22, 43],
        512: [2, 2, 4, 8, 16, 32, 64, NE, NE],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 5, 2, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 2, 3, 5, 10],
        64: [1, 1, 1, 1, 2, 3, 5, 10, 19],
        128: [1, 1, 1, 2, 3, 5, 10, 19, 37],
        256: [1, 1, 2, 3, 6, 11, 22, 43, NE],
        512: [2, 4, 8, 16, 32, 64, NE, NE, NE],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 5, 4, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 2, 3, 5, 10],
        32: [1, 1, 1, 1, 2, 3, 5, 10, 19],
        64: [1, 1, 1, 2, 3, 5, 10, 19, 37],
        128: [1, 1, 2, 3, 6, 11, 22, 43, NE],
        256: [1, 2, 4, 8, 16, 32, 64, NE, NE],
        512: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 7, 1, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        32: [1, 1, 1, 1, 1, 2, 3, 5, 10],
        64: [1, 1, 1, 1, 2, 3, 5, 10, 19],
        128: [1, 1, 1, 2, 3, 5, 10, 19, 37],
        256: [1, 1, 2, 3, 6, 11, 22, 43, NE],
        512: [4, 8, 16, 32, 64, NE, NE, NE, NE],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 7, 2, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        4: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        8: [1, 1, 1, 1, 1, 1, 2, 3, 5],
        16: [1, 1, 1, 1, 1, 2, 3, 5, 10],
        32: [1, 1, 1, 1, 2, 3, 5, 10, 19],
        64: [1, 1, 1, 2, 3, 5, 10, 19, 37],
        128: [1, 1, 2, 3, 6, 11, 22, 43, NE],
        256: [1, 2, 4, 8, 16, 32, 64, NE, NE],
        512: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("conv", 7, 4, None): ([8, 16, 32, 64, 128, 256, 512, 1024, 2048], {
        1: [1, 1, 1, 1, 1, 1, 2, C1, C1],
        2: [1, 1, 1, 1, 1, 1, 2, 3, 6],
        4: [1, 1, 1, 1, 1, 1, 2, 4, 7],
        8: [1, 1, 1, 1, 1, 2, 4, 7, 13],
        16: [1, 1, 1, 1, 2, 4, 7, 13, 26],
        32: [1, 1, 1, 2, 4, 7, 13, 26, 52],
        64: [1, 1, 2, 4, 8, 16, 32, 64, NE],
        128: [1, 2, 4, 8, 16, 32, 64, NE, NE],
        256: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        512: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
        1024: [TB, TB, TB, TB, TB, TB, TB, TB, TB],
    }),
    ("dims", 3, 4, 16): ([8, 32, 64, 128, 256], {
        8: [1, 1, 1, 1, 1],
        16: [1, 1, 1, 1, 1],
        32: [1, 1, 1, 1, 2],
        33: [2, 2, 2, 2, 2],
        48: [2, 2, 2, 2, 3],
        64: [2, 2, 2, 2, 4],
        96: [3, 3, 3, 3, 6],
        128: [4, 4, 4, 4, 8],
        192: [6, 6, 6, 6, 11],
        256: [8, 8, 8, 8, 15],
    }),
    ("dims", 3, 4, 64): ([8, 32, 64, 128, 256], {
        8: [1, 1, 1, 1, 4],
        16: [1, 1, 1, 2, 8],
        32: [1, 1, 2, 4, 16],
        33: [2, 2, 2, 5, 17],
        48: [2, 2, 3, 6, 24],
        64: [2, 2, 4, 8, 32],
        96: [3, 3, 6, 12, 48],
        128: [4, 4, 8, 16, 64],
        192: [6, 6, 11, 24, NE],
        256: [8, 8, 15, 32, NE],
    }),
    ("dims", 3, 4, 128): ([8, 32, 64, 128, 256], {
        8: [2, 2, 2, 8, NE],
        16: [2, 2, 4, 16, NE],
        32: [2, 4, 8, 32, NE],
        33: [4, 4, 10, 34, NE],
        48: [4, 6, 12, 48, NE],
        64: [4, 8, 16, 64, NE],
        96: [6, 12, 24, NE, NE],
        128: [8, 16, 32, NE, NE],
        192: [12, 22, 48, NE, NE],
        256: [16, 30, 64, NE, NE],
    }),
    ("sep", 3, 2, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 1, 2, 3],
        512: [2, 2, 2, 2, 4, 8],
        1024: [8, 8, 8, 16, 32, 64],
    }),
    ("sep", 3, 4, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 1, 2, 4],
        512: [2, 2, 2, 4, 8, 14],
        1024: [8, 8, 16, 32, 64, NE],
    }),
    ("sep", 5, 2, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 1, 2, 3],
        512: [2, 2, 2, 2, 4, 8],
        1024: [NE, NE, NE, NE, NE, NE],
    }),
    ("sep", 5, 4, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 1, 2, 4],
        512: [2, 2, 2, 4, 8, 16],
        1024: [NE, NE, NE, NE, NE, NE],
    }),
    ("sep", 7, 2, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 1, 2, 3],
        512: [4, 4, 4, 4, 8, 16],
        1024: [NE, NE, NE, NE, NE, NE],
    }),
    ("sep", 7, 4, None): ([16, 64, 128, 256, 512, 1024], {
        8: [1, 1, 1, 1, 2, 3],
        16: [1, 1, 1, 1, 2, 3],
        32: [1, 1, 1, 1, 2, 3],
        64: [1, 1, 1, 1, 2, 3],
        128: [1, 1, 1, 1, 2, 3],
        256: [1, 1, 1, 2, 3, 5],
        512: [4, 4, 8, 16, 28, 52],
        1024: [TB, TB, TB, TB, TB, TB],
    }),
}


def cells(key):
    kind, k, wb, fixed = key
    columns, rows = SWEEPS[key]
    for row, values in rows.items():
        for column, want in zip(columns, values):
            if kind == "dims":
                yield (kind, k, wb, fixed, fixed, row, column), want
            else:
                yield (kind, k, wb, row, column, 16, 16), want


def _layer_spec(kind, k, wb, c, f, d0, d1):
    spec = _core.LayerSpec()
    spec.name = "layer"
    spec.type = _core.LayerType.SeparableConvolutional if kind == "sep" else _core.LayerType.Convolutional
    spec.input_dims, spec.kernel_size, spec.filters = (d0, d1, c), (k, k), f
    spec.weights_bits, spec.act_bits, spec.padding = wb, 4, _core.Padding.Same
    spec.output_dims = _core.output_dims(spec)
    return spec


def outcome(kind, k, wb, c, f, d0, d1):
    """NPs used by the layer with hw_only=True, or the refusal code."""
    source = _core.LayerSpec()
    source.name, source.type, source.input_dims = "in", _core.LayerType.InputData, (d0, d1, c)
    source.output_dims = (d0, d1, c)
    model = _core.ModelSpec()
    model.layers = [source, _layer_spec(kind, k, wb, c, f, d0, d1)]
    try:
        mapping = _core.map_model(model, _core.akd1000(), True)
    except HardwareError as error:
        codes = [code for code, text in REFUSALS.items() if text in str(error)]
        assert len(codes) == 1, str(error)
        return codes[0]
    return len(mapping.layers[0].nps)


@pytest.mark.parametrize("key", list(SWEEPS), ids=lambda key: "-".join(str(v) for v in key))
def test_sweep_table(key):
    for cell, want in cells(key):
        got = outcome(*cell)
        assert got == want, f"{cell}: reference {want}, akq {got}"


def test_the_sweeps_are_complete():
    assert sum(1 for key in SWEEPS for _ in cells(key)) == 1626


def test_public_api_maps_like_the_core():
    model = akq.Model([akq.InputData((16, 16, 64), name="in"),
                       akq.Convolutional((3, 3), 1024, name="conv", weights_bits=4, act_bits=4)])
    model.map(akq.AKD1000(), hw_only=True)
    filters = [np_.filters for np_ in model.get_layer("conv").mapping.nps]
    assert filters == [128] * 8 and outcome("conv", 3, 4, 64, 1024, 16, 16) == 8
    assert {np_.type.name for np_ in model.get_layer("conv").mapping.nps} == {"CNP1"}


def test_filters_are_balanced_like_the_reference():
    # docs/spec D.5: F=1024 -> 342/342/340, F=2048 -> 5 NPs of 410 (small C)
    for filters, expected in ((1024, [342, 342, 340]), (2048, [410, 410, 410, 410, 408]), (512, [256, 256])):
        spec = _layer_spec("conv", 1, 1, 8, filters, 16, 16)
        assert list(_core.split_cnp_layer(spec).filters) == expected


def test_spatial_split_along_axis_0():
    # docs/spec D.5 (a): ceil(D0 / 32) NPs for small C and F
    for d0, nps in ((32, 1), (33, 2), (64, 2), (100, 4), (128, 4), (256, 8), (512, 16)):
        assert outcome("conv", 3, 4, 16, 16, d0, 16) == nps


@pytest.mark.parametrize("filters,refused", [(1, False), (8, False), (16, False), (24, True), (32, False),
                                             (48, False), (512, False), (1024, True)])
def test_one_input_channel_rule(filters, refused):
    assert (outcome("conv", 3, 4, 1, filters, 16, 16) == C1) == refused
