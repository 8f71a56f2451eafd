"""AkidaNet 0.5/224 and DS-CNN KWS as BrainChip's model zoo builds them, the figures BrainChip publishes
for them on the AKD1000 reference board (docs/spec D.7), and the synthetic weights and inputs the
performance model is calibrated with; used by bench/device.py and tests/test_device_calibration.py."""

import akq
import numpy as np

PUBLISHED = {
    "AkidaNet 0.5/224": {"nps": 68, "clocks": 43_000_636, "frames": 10, "fps": 43.48, "energy_mj": 23.48,
                         "dynamic_mj": 2.51, "program": 1_361_244, "dense_clocks": 13.7e6},
    "DS-CNN KWS": {"nps": 65, "clocks": 93_965, "frames": 1, "program": 88_748},
}


def akidanet_layers(alpha=0.5, size=224, classes=1000):
    """AkidaNet (MobileNet-v1 with standard convolutions first), as in BrainChip's model zoo."""
    f = lambda n: int(n * alpha)
    layers = [akq.InputConvolutional((size, size, 3), 3, f(32), name="conv_0", kernel_stride=2, weights_bits=8,
                                     act_bits=4),
              akq.Convolutional(3, f(64), name="conv_1", weights_bits=4, act_bits=4),
              akq.Convolutional(3, f(128), name="conv_2", kernel_stride=2, weights_bits=4, act_bits=4),
              akq.Convolutional(3, f(128), name="conv_3", weights_bits=4, act_bits=4)]
    plan = [(256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (filters, stride) in enumerate(plan, start=4):
        last = i == 3 + len(plan)
        layers.append(akq.SeparableConvolutional(3, f(filters), name=f"separable_{i}", kernel_stride=stride,
                                                 weights_bits=4, act_bits=4,
                                                 pool_type=akq.PoolType.Average if last else akq.PoolType.NoPooling))
    layers.append(akq.FullyConnected(classes, name="classifier", weights_bits=4, activation=False))
    return layers


def ds_cnn_layers(classes=33):
    """DS-CNN keyword spotting on 49x10 MFCC frames (BrainChip's model zoo), last activation 1 bit."""
    layers = [akq.InputConvolutional((49, 10, 1), 5, 64, name="conv_0", kernel_stride=2, weights_bits=8,
                                     act_bits=4)]
    for i in range(1, 5):
        layers.append(akq.SeparableConvolutional(3, 64, name=f"separable_{i}", weights_bits=4,
                                                 act_bits=1 if i == 4 else 4,
                                                 pool_type=akq.PoolType.Average if i == 4 else akq.PoolType.NoPooling))
    layers.append(akq.FullyConnected(classes, name="dense_5", weights_bits=4, activation=False))
    return layers


def natural_inputs(count, shape, rng):
    """Smooth random images: a few low-frequency blobs and a gradient, 8-bit."""
    d0, d1, c = shape
    out = np.zeros((count, d0, d1, c), np.float64)
    y, x = np.mgrid[0:d0, 0:d1] / max(d0, d1)
    for n in range(count):
        for ch in range(c):
            img = rng.uniform(0, 0.5) * x + rng.uniform(0, 0.5) * y
            for _ in range(6):
                cy, cx, r = rng.uniform(0, 1, 3)
                img += rng.uniform(-1, 1) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (0.02 + 0.1 * r))
            out[n, :, :, ch] = img
    out = (out - out.min()) / (np.ptp(out) + 1e-9)
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def calibrated_model(layers, inputs, rng, zero_fraction=0.5):
    """The model with random weights and, per layer, thresholds at the `zero_fraction` quantile of its
    potentials on `inputs` (so that fraction of its activations is zero) and steps spreading the rest."""
    model = akq.Model()
    for layer in layers:
        if layer._type == akq.LayerType.InputData:
            model.add(layer)
            continue
        keep_activation = layer._spec.activation
        layer._spec.activation = False
        model.add(layer)
        bits = layer._spec.weights_bits
        limit = 2 ** (bits - 1) - 1
        for name in ("weights", "weights_pw"):
            if name in layer.variables:
                shape = layer.get_variable(name).shape
                # skewed positive like trained ReLU features, so fewer input events mean lower potentials
                layer.set_variable(name, rng.integers(-limit // 2, limit + 1, shape).astype(np.int8))
        potentials = model.forward(inputs).reshape(-1, layer.output_dims[2]).astype(np.float64)
        if not keep_activation:
            break
        threshold = np.maximum(np.quantile(potentials, zero_fraction, axis=0), 0)  # silence never fires
        top = np.quantile(potentials, 0.98, axis=0)
        levels = 2 ** layer._spec.act_bits
        step = np.maximum((top - threshold) * levels / (levels - 1) / 16, 1 / 16)
        layer._spec.activation = True
        model._invalidate()
        layer.set_variable("threshold", np.floor(threshold).astype(np.int32))
        layer.set_variable("act_step", step.astype(np.float32))
    return model


def published_run(name, frames=4, seed=2024):
    """`name`'s calibration run: the model with synthetic weights, mapped in all-NPs mode (as the published
    figures were measured), after `frames` synthetic frames on the engine; returns its akq.Performance."""
    from akq.device.performance import Performance

    layers, shape = {"AkidaNet 0.5/224": (akidanet_layers, (224, 224, 3)),
                     "DS-CNN KWS": (ds_cnn_layers, (49, 10, 1))}[name]
    rng = np.random.default_rng(seed)
    inputs = natural_inputs(frames, shape, rng)
    model = calibrated_model(layers(), inputs, rng)
    model.map(akq.AKD1000(), mode="all_nps")
    model.forward(inputs)
    return Performance(model)
