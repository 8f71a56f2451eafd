"""Every structural limit (docs/spec D.3) and programming range (docs/spec D.4) of the AKD1000, with its error.

Each case builds a small model whose layer 'x' breaks one rule, then checks that map(hw_only=True) raises
HardwareError naming the layer and the rule, that check_hardware() reports it, and that the default
map() runs the layer in software instead.
"""

import akq
import numpy as np
import pytest
from akq.errors import HardwareError

P = akq.PoolType


def iconv(shape=(16, 16, 3), kernel=3, filters=8, **kw):
    return akq.Model([akq.InputConvolutional(shape, kernel, filters, name="x", weights_bits=4, act_bits=4, **kw)])


def cnp(cls=akq.Convolutional, shape=(16, 16, 8), kernel=3, filters=8, then=None, **kw):
    kw.setdefault("weights_bits", 4)
    model = akq.Model([akq.InputData(shape, name="in"), cls(kernel, filters, name="x", act_bits=4, **kw)])
    if then is not None:
        model.add(then)
    return model


def fc(shape=(1, 1, 64), units=10, **kw):
    kw.setdefault("weights_bits", 4)
    return akq.Model([akq.InputData(shape, name="in"), akq.FullyConnected(units, name="x", act_bits=4, **kw)])


def conv_after():
    return akq.Convolutional(3, 8, name="after", weights_bits=4, act_bits=4)


STRUCTURAL = [
    # InputConvolutional on the HRC
    ("iconv channels", lambda: iconv(shape=(16, 16, 2)), "input_channels must be 1 or 3"),
    ("iconv square kernel", lambda: iconv(kernel=(3, 5)), "kernel size should be symmetric"),
    ("iconv kernel 1", lambda: iconv(kernel=1), "kernel size should be 3, 5 or 7"),
    ("iconv average pool", lambda: iconv(pool_type=P.Average), "pool_type cannot be Average"),
    ("iconv pool 3", lambda: iconv(pool_type=P.Max, pool_size=3), "pooling_y should be 1 or 2"),
    ("iconv pool stride", lambda: iconv(pool_type=P.Max, pool_size=2, pool_stride=1),
     "pool_size and pool_stride should be equal"),
    ("iconv filters 5x5 rgb", lambda: iconv(kernel=5, filters=65), "num_neurons should be set between 1 and 64"),
    ("iconv filters 7x7 gray", lambda: iconv(shape=(16, 16, 1), kernel=7, filters=97),
     "num_neurons should be set between 1 and 96"),
    ("iconv activation", lambda: iconv(activation=False), "can only be mapped if its activations are enabled"),
    ("iconv dim0", lambda: iconv(shape=(4, 16, 3)), "input first dimension size cannot be smaller than 5"),
    ("iconv dim1", lambda: iconv(shape=(16, 300, 3)), "input second dimension size cannot be higher than 256"),
    ("iconv filters rgb", lambda: iconv(filters=193), "num_neurons should be set between 1 and 192"),
    ("iconv filters gray", lambda: iconv(shape=(16, 16, 1), filters=513), "between 1 and 512"),
    # the reference refuses an HRC step while mapping (tests/test_device_ranges.py)
    ("iconv step", lambda: with_variables(iconv(), act_step=np.float32(1048576.0)),
     "act_step should be between 0 and 1048575. Receives act_step 1048576"),
    # Convolutional on CNPs
    ("conv 8-bit", lambda: cnp(weights_bits=8), "Standard CNP weights bitwidth must be 1, 2 or 4"),
    ("conv valid", lambda: cnp(padding=akq.Padding.Valid), "Only padding same is supported"),
    ("conv square kernel", lambda: cnp(kernel=(3, 1)), "Kernel width and height must be equal"),
    ("conv kernel 9", lambda: cnp(kernel=9), "Kernel size must be 1, 3, 5 or 7"),
    ("conv strides", lambda: cnp(kernel_stride=(2, 1)), "Horizontal and vertical strides must be equal"),
    ("conv stride 3", lambda: cnp(kernel_stride=3), "Convolution stride must be 1 or 2"),
    ("conv stride 2 kernel 5", lambda: cnp(kernel=5, kernel_stride=2), "only supported with 3x3 kernels"),
    ("conv pool square", lambda: cnp(pool_type=P.Max, pool_size=(2, 1), then=conv_after()),
     "Pooling width and height must be equal"),
    ("conv pool 3", lambda: cnp(pool_type=P.Max, pool_size=3, then=conv_after()),
     "Pooling size 3 is not supported on NSoC_v2"),
    ("conv gap width", lambda: cnp(shape=(40, 8, 8), pool_type=P.Average), "input width cannot exceed 32"),
    ("conv gap rows", lambda: cnp(shape=(8, 4, 8), kernel_stride=2, pool_type=P.Average),
     "must have at least 3 rows (currently 2)"),
    ("conv channels", lambda: cnp(shape=(1, 1, 4096), kernel=1, filters=1), "The maximum input channel value is 2048"),
    ("conv filters", lambda: cnp(shape=(1, 1, 2), kernel=1, filters=4096), "The maximum number of filters is 2048"),
    ("conv width", lambda: cnp(shape=(5000, 1, 1), kernel=1, filters=1), "The maximum input width is 4096"),
    ("conv height", lambda: cnp(shape=(1, 5000, 1), kernel=1, filters=1), "The maximum input height is 4096"),
    ("conv filter memory", lambda: cnp(shape=(4, 4, 1024), kernel=1), "Filter size is too big to fit in a CNP"),
    ("conv NPs", lambda: cnp(shape=(16, 16, 512), filters=2048, weights_bits=1), "not enough NPs available"),
    ("conv one channel", lambda: cnp(shape=(16, 16, 1), filters=24), "With one input channel"),
    ("conv stride 2 + pool split", lambda: cnp(shape=(64, 8, 8), kernel_stride=2, pool_type=P.Max, pool_size=2,
                                               then=conv_after()),
     "stride 2 with max pooling on a layer split spatially over several NPs (the input is split into 2 strips"),
    ("conv pool last", lambda: cnp(pool_type=P.Max, pool_size=2), "cannot be the last layer of a sequence"),
    ("conv pool 1x1 last", lambda: cnp(pool_type=P.Max, pool_size=1), "cannot be the last layer of a sequence"),
    ("conv pool on 1 row", lambda: cnp(shape=(8, 1, 8), pool_type=P.Max, pool_size=2, then=conv_after()),
     "Pooling size cannot be greater than input dimensions"),
    ("conv gap split", lambda: cnp(shape=(32, 64, 64), pool_type=P.Average),
     "With average pooling, spatial split is impossible"),
    ("conv pool stride split", lambda: cnp(shape=(64, 8, 8), pool_type=P.Max, pool_size=2, pool_stride=1,
                                           then=conv_after()),
     "Cannot have pooling size > pooling stride on a layer split spatially"),
    # SeparableConvolutional on CNPs
    ("sep 1-bit", lambda: cnp(akq.SeparableConvolutional, weights_bits=1), "Separable CNP weights bitwidth must be 2 or 4"),
    ("sep kernel 1", lambda: cnp(akq.SeparableConvolutional, kernel=1), "Kernel size must be 3, 5 or 7"),
    ("sep valid", lambda: cnp(akq.SeparableConvolutional, padding=akq.Padding.Valid), "Only padding same"),
    # FullyConnected on an FNP
    ("fc 8-bit", lambda: fc(weights_bits=8), "Weight bits should be between 1 and 4 inclusive"),
    ("fc inputs", lambda: fc(shape=(240, 240, 1)),
     "Input dimensions are too large to fit in a FNP.  The maximum value is 57334"),
]


def test_pooling_before_a_dense_layer_names_the_dense_layer():
    # as the reference does: "Error when mapping layer 'dense': A convolutional ... must be followed by ..."
    model = cnp(pool_type=P.Max, pool_size=2, then=akq.FullyConnected(4, name="dense", weights_bits=4))
    with pytest.raises(HardwareError, match="Error when mapping layer 'dense': it follows 'x', and a layer with max "
                                            "pooling must be followed by another convolutional"):
        model.map(akq.AKD1000(), hw_only=True)


@pytest.mark.parametrize("build,fragment", [c[1:] for c in STRUCTURAL], ids=[c[0] for c in STRUCTURAL])
def test_structural_limit(build, fragment):
    model = build()
    with pytest.raises(HardwareError) as info:
        model.map(akq.AKD1000(), hw_only=True)
    message = str(info.value)
    assert message.startswith("Error when mapping layer 'x': ") and fragment in message
    assert "Fix: " in message  # every refusal says what to do
    assert any(p.layer == "x" and fragment in p.message for p in akq.check_hardware(model))
    model.map(akq.AKD1000())  # the default falls back to software
    assert model.get_layer("x").mapping is None
    assert any(s.backend.name == "Software" and model.get_layer("x") in s.layers for s in model.sequences)


def test_limits_are_not_refused_when_just_inside():
    inside = [iconv(filters=192), iconv(shape=(5, 256, 3)), iconv(shape=(16, 16, 1), filters=512),
              iconv(kernel=7, kernel_stride=3), iconv(pool_type=P.Max, pool_size=2),
              cnp(kernel=3, kernel_stride=2), cnp(shape=(32, 8, 8), pool_type=P.Average),
              cnp(pool_type=P.Max, pool_size=2, pool_stride=1, then=conv_after()),
              cnp(shape=(16, 16, 1), filters=48), fc(shape=(1, 1, 57334), units=2, weights_bits=1)]
    for model in inside:
        assert akq.check_hardware(model) == [], model
        model.map(akq.AKD1000(), hw_only=True)


def with_variables(model, name="x", **values):
    layer = model.get_layer(name)
    for variable, value in values.items():
        current = layer.get_variable(variable)
        layer.set_variable(variable, np.full(current.shape, value, current.dtype))
    return model


RANGES = [
    ("conv threshold high", lambda: with_variables(cnp(), threshold=524288),
     "524288 cannot fit in a 20 bits signed integer", "add_gamma_constraint"),
    ("conv threshold low", lambda: with_variables(cnp(), threshold=-524289),
     "-524289 cannot fit in a 20 bits signed integer", "add_gamma_constraint"),
    ("conv step", lambda: with_variables(cnp(), act_step=np.float32(65536.0)),
     "Backend hardware(CNP): act_step should be between 0 and 65535. Receives act_step 65536", "input_scaling"),
    ("conv step without activation", lambda: with_variables(cnp(activation=False), act_step=np.float32(70000.0)),
     "act_step should be between 0 and 65535. Receives act_step 70000", "add_gamma_constraint"),
    ("sep threshold", lambda: with_variables(cnp(akq.SeparableConvolutional), threshold=600000),
     "600000 cannot fit in a 20 bits signed integer", "add_gamma_constraint"),
    ("fc threshold", lambda: with_variables(fc(), threshold=524288), "20 bits signed", "add_gamma_constraint"),
    ("fc step", lambda: with_variables(fc(), act_step=np.float32(65536.0)),
     "Backend hardware(FullyConnected): act_step should be between 0 and 65535", "add_gamma_constraint"),
    ("iconv threshold", lambda: with_variables(iconv(), threshold=8388608),
     "8388608 cannot fit in a 24 bits signed integer", "input_scaling"),
]


@pytest.mark.parametrize("build,fragment,fix", [c[1:] for c in RANGES], ids=[c[0] for c in RANGES])
def test_programming_range(build, fragment, fix):
    model = build()
    with pytest.raises(HardwareError) as info:
        model.map(akq.AKD1000(), hw_only=True)
    message = str(info.value)
    assert message.startswith("Error when programming layer 'x': ") and fragment in message
    assert "Likely cause: " in message and fix in message
    (problem,) = akq.check_hardware(model)
    assert problem.kind == "programming" and problem.layer == "x"
    model.map(akq.AKD1000())
    assert model.get_layer("x").mapping is None


def test_ranges_just_inside_and_unchecked_cases_map():
    inside = [with_variables(cnp(), threshold=524287), with_variables(cnp(), threshold=-524288),
              with_variables(cnp(), act_step=np.float32(65535.9)),
              with_variables(cnp(activation=False), threshold=10**7),  # no activation: threshold unused
              with_variables(fc(activation=False), threshold=10**7, act_step=np.float32(1e6)),
              with_variables(iconv(), threshold=8388607, act_step=np.float32(1048575.5))]
    for model in inside:
        assert akq.check_hardware(model) == []
        model.map(akq.AKD1000(), hw_only=True)


def test_check_hardware_lists_every_problem_at_once():
    model = akq.Model([
        akq.InputConvolutional((16, 16, 2), (3, 5), 8, name="first", weights_bits=4, act_bits=4),
        akq.Convolutional(3, 8, name="valid", padding=akq.Padding.Valid, weights_bits=8, act_bits=4),
        akq.SeparableConvolutional(3, 8, name="sep", weights_bits=4, act_bits=4),
        akq.FullyConnected(10, name="dense", weights_bits=4, act_bits=4),
    ])
    with_variables(model, "sep", threshold=10**6)
    problems = akq.check_hardware(model)
    found = {(p.layer, p.kind) for p in problems}
    assert found == {("first", "mapping"), ("valid", "mapping"), ("sep", "programming")}
    assert sum(p.layer == "first" for p in problems) == 2  # 2 channels and a non-square kernel
    assert sum(p.layer == "valid" for p in problems) == 2  # 8-bit weights and valid padding
    assert all(p.message.startswith(f"Error when {p.kind} layer '{p.layer}'") for p in problems)
    # the reference checks the kernel before the channels (tests/test_device_differential.py)
    with pytest.raises(HardwareError, match="Error when mapping layer 'first': kernel size should be symmetric"):
        model.map(akq.AKD1000(), hw_only=True)
    model.map(akq.AKD1000())  # default: only the dense layer is left on the chip
    assert [(s.name, s.backend.name) for s in model.sequences] == [("SW/first-sep", "Software"),
                                                                   ("HW/dense", "Hardware")]


def test_tiny_batchnorm_gamma_hits_the_threshold_limit_and_the_fix_is_named():
    keras = pytest.importorskip("keras")
    ql, qops, layers = akq.quantization_layers, akq.quantization_ops, keras.layers

    def converted(gamma):
        model = keras.Sequential([
            keras.Input((32, 32, 3)),
            ql.QuantizedConv2D(8, 3, padding="same", quantizer=qops.MaxPerAxisQuantizer(bitwidth=8), name="conv_0"),
            layers.BatchNormalization(name="bn_0"), ql.QuantizedReLU(bitwidth=4, max_value=6, name="relu_0"),
            ql.QuantizedConv2D(8, 3, padding="same", quantizer=qops.MaxPerAxisQuantizer(bitwidth=4), name="conv_1"),
            layers.GlobalAveragePooling2D(name="gap"), layers.BatchNormalization(name="bn_1"),
            ql.QuantizedReLU(bitwidth=4, max_value=6, name="relu_1")])
        for name in ("bn_0", "bn_1"):
            gammas = np.ones(8, np.float32)
            if name == "bn_1":
                gammas[3] = gamma
            model.get_layer(name).set_weights([gammas, np.full(8, -0.5, np.float32), np.zeros(8, np.float32),
                                               np.ones(8, np.float32)])
        return akq.convert(model, input_scaling=(255, 0))

    assert akq.check_hardware(converted(1.0)) == []
    model = converted(1e-4)
    with pytest.raises(HardwareError) as info:
        model.map(akq.AKD1000(), hw_only=True)
    message = str(info.value)
    assert "Error when programming layer 'conv_1'" in message and "cannot fit in a 20 bits signed integer" in message
    assert "BatchNormalization gamma" in message and "add_gamma_constraint" in message
