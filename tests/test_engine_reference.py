"""The engine against a deliberately simple numpy reference written from docs/spec C, on random models.

The reference below loops over kernel taps and output positions with int64 arithmetic and shares no
code with the engine. The random models cover every rule: padding_value mod 256, true convolution
vs correlation, separable without intermediate rounding, D0-fastest FC flatten and its clamp, TF
'same'/'valid', anisotropic kernels/strides/pools, clamp before max pooling (not for 1x1 pools),
the saturating row-major GAP sum, the truncated step and its 28-bit wrap, extreme thresholds,
predict in float32, on every SIMD level and thread count.
"""

import numpy as np
import pytest

import akq
import engine_helpers

simd_level = engine_helpers.simd_level  # fixture: the test runs on every SIMD level
LO, HI = -(2**19), 2**19 - 1


# -- the reference ---------------------------------------------------------------------------------
def out_and_pad(d, k, s, same):
    if not same:
        return (d - k) // s + 1, 0
    o = -(-d // s)
    return o, max((o - 1) * s + k - d, 0) // 2


def pad(x, k, s, same, value):
    """x (N, D0, D1, C) padded the TF 'same' way (or not), and the output size."""
    (o0, p0), (o1, p1) = out_and_pad(x.shape[1], k[0], s[0], same), out_and_pad(x.shape[2], k[1], s[1], same)
    n0, n1 = (o0 - 1) * s[0] + k[0], (o1 - 1) * s[1] + k[1]
    xp = np.full((x.shape[0], max(n0, x.shape[1] + p0), max(n1, x.shape[2] + p1), x.shape[3]), value, np.int64)
    xp[:, p0:p0 + x.shape[1], p1:p1 + x.shape[2]] = x
    return xp, o0, o1


def correlate(xp, w, s, o0, o1):
    """p[n,i,j,f] = sum_{a,b,c} w[a,b,c,f] * xp[n, i*s0+a, j*s1+b, c]."""
    p = np.zeros((xp.shape[0], o0, o1, w.shape[3]), np.int64)
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            window = xp[:, a:a + (o0 - 1) * s[0] + 1:s[0], b:b + (o1 - 1) * s[1] + 1:s[1], :]
            p += np.einsum("nijc,cf->nijf", window, w[a, b].astype(np.int64))
    return p


def depthwise(xp, w, s, o0, o1):
    d = np.zeros((xp.shape[0], o0, o1, xp.shape[3]), np.int64)
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            d += xp[:, a:a + (o0 - 1) * s[0] + 1:s[0], b:b + (o1 - 1) * s[1] + 1:s[1], :] * w[a, b, :, 0]
    return d


def max_pool(p, q, r, same):
    (u0, pp0), (u1, pp1) = out_and_pad(p.shape[1], q[0], r[0], same), out_and_pad(p.shape[2], q[1], r[1], same)
    out = np.zeros((p.shape[0], u0, u1, p.shape[3]), np.int64)
    for i in range(u0):
        for j in range(u1):
            rows = [x for x in range(i * r[0] - pp0, i * r[0] - pp0 + q[0]) if 0 <= x < p.shape[1]]
            cols = [y for y in range(j * r[1] - pp1, j * r[1] - pp1 + q[1]) if 0 <= y < p.shape[2]]
            out[:, i, j] = p[:, rows][:, :, cols].max(axis=(1, 2))
    return out


def wrap32(v):
    return ((v + 2**31) % 2**32) - 2**31


def reference_layer(layer, x):
    """Potentials after pooling (int64) of one layer; x is (N, D0, D1, C)."""
    t, p = layer.parameters.layer_type, layer.parameters
    x = x.astype(np.int64)
    if t == akq.LayerType.FullyConnected:
        flat = x.transpose(0, 3, 2, 1).reshape(x.shape[0], -1)  # index c*D1*D0 + j*D0 + i
        w = layer.get_variable("weights")[0, 0].astype(np.int64)
        return np.clip(wrap32(flat @ w), LO, HI).reshape(x.shape[0], 1, 1, -1)
    same = p.padding == akq.Padding.Same
    w = layer.get_variable("weights")
    value = p.padding_value % 256 if t == akq.LayerType.InputConvolutional else 0
    xp, o0, o1 = pad(x, p.kernel_size, p.kernel_stride, same, value)
    if t == akq.LayerType.InputConvolutional:
        pot = correlate(xp, w, p.kernel_stride, o0, o1)
    elif t == akq.LayerType.Convolutional:
        pot = correlate(xp, w[::-1, ::-1], p.kernel_stride, o0, o1)
    else:
        d = depthwise(xp, w[::-1, ::-1], p.kernel_stride, o0, o1)
        pot = np.einsum("nijc,cf->nijf", d, layer.get_variable("weights_pw")[0, 0].astype(np.int64))
    pot = wrap32(pot)
    if p.pool_type == akq.PoolType.Max and tuple(p.pool_size) != (1, 1):
        stride = tuple(s if s > 0 else q for s, q in zip(p.pool_stride, p.pool_size))
        pot = max_pool(np.clip(pot, LO, HI), p.pool_size, stride, same)
    elif p.pool_type == akq.PoolType.Average:
        acc = np.zeros((pot.shape[0], pot.shape[3]), np.int64)
        for i in range(pot.shape[1]):
            for j in range(pot.shape[2]):
                acc = np.clip(acc + pot[:, i, j], LO, HI)
        pot = acc.reshape(pot.shape[0], 1, 1, -1)
    return pot


def reference_activation(layer, pot):
    bits = layer.parameters.act_bits
    z = wrap32(pot - layer.get_variable("threshold").astype(np.int64))
    s16 = np.floor(16 * layer.get_variable("act_step").astype(np.float64)) % 2**28
    level = (((z << bits) - 1) % 2**28) // s16.astype(np.int64) + 1
    return np.where(z <= 0, 0, np.minimum(level, 2**bits - 1)).astype(np.uint8)


def reference_forward(model, x):
    for layer in model.layers:
        if layer.parameters.layer_type == akq.LayerType.InputData:
            continue
        pot = reference_layer(layer, x)
        if not layer.parameters.activation:
            return pot.astype(np.int32)
        x = reference_activation(layer, pot)
    return x


def input_of_last(model, x):
    for layer in model.layers[:-1]:
        if layer.parameters.layer_type != akq.LayerType.InputData:
            x = reference_activation(layer, reference_layer(layer, x))
    return x


def reference_predict(model, x):
    last = model.layers[-1]
    pot = reference_layer(last, input_of_last(model, x))
    diff = (pot - last.get_variable("threshold").astype(np.int64)).astype(np.float32)
    return diff / last.get_variable("act_step")


# -- random models ---------------------------------------------------------------------------------
def random_weights(rng, bits, shape):
    if bits == 1:
        return rng.integers(0, 2, shape).astype(np.int8)
    top = 127 if bits == 8 else 2 ** (bits - 1) - 1
    return rng.integers(-top - (bits == 8), top + 1, shape).astype(np.int8)


def random_pair(rng, choices):
    first = int(rng.choice(choices))
    return (first, first) if rng.random() < 0.5 else (first, int(rng.choice(choices)))


def random_conv_kwargs(rng, in_dims, first):
    kernel = random_pair(rng, [1, 3, 5])
    stride = tuple(int(rng.integers(1, min(k, 3) + 1)) for k in kernel)
    same = rng.random() < 0.6 or any(k > d for k, d in zip(kernel, in_dims[:2]))
    out = [(-(-d // s)) if same else (d - k) // s + 1 for d, k, s in zip(in_dims[:2], kernel, stride)]
    kwargs = dict(kernel_size=kernel, filters=int(rng.integers(1, 21)), kernel_stride=stride,
                  padding=akq.Padding.Same if same else akq.Padding.Valid,
                  weights_bits=int(rng.integers(2, 9)) if first else int(rng.choice([1, 2, 4, 8])),
                  act_bits=int(rng.choice([1, 2, 4])))
    pool = rng.choice(["none", "max", "max1", "avg"], p=[0.35, 0.35, 0.1, 0.2])
    if pool == "max1":
        kwargs.update(pool_type=akq.PoolType.Max, pool_size=(1, 1))
    elif pool == "max":
        size = tuple(min(int(rng.integers(2, 4)), o) if not same else int(rng.integers(1, 4)) for o in out)
        kwargs.update(pool_type=akq.PoolType.Max, pool_size=size,
                      pool_stride=tuple(int(rng.integers(1, q + 1)) for q in size) if rng.random() < 0.6
                      else (-1, -1))
    elif pool == "avg":
        kwargs.update(pool_type=akq.PoolType.Average)
    return kwargs


def calibrate(rng, layer, pot, extreme):
    """Thresholds and steps that make the activations non-trivial (or extreme values)."""
    f = layer.parameters.filters if hasattr(layer.parameters, "filters") else layer.parameters.units
    if extreme:
        threshold = rng.integers(-(2**31), 2**31, f, dtype=np.int64)
        step = np.float32(2.0) ** rng.uniform(-4, 23, f).astype(np.float32)
        wraps = rng.random(f) < 0.3  # steps of 2^24..2^27 whose truncation wraps modulo 2^28
        step[wraps] = (np.float32(2.0**24) * rng.uniform(1.0, 15.9, wraps.sum())).astype(np.float32)
    else:
        flat = pot.reshape(-1, f).astype(np.float64)
        threshold = np.percentile(flat, rng.uniform(10, 90), axis=0) + rng.normal(0, 3, f)
        spread = np.maximum(flat.std(axis=0), 1.0) * rng.uniform(0.2, 3.0, f)
        step = (spread / 16).astype(np.float32)
    layer.set_variable("threshold", np.clip(np.floor(threshold), -(2**31), 2**31 - 1).astype(np.int32))
    layer.set_variable("act_step", np.maximum(step, np.float32(1 / 16)).astype(np.float32))


def random_model(seed, extreme=False):
    """A random model and a batch of inputs for it."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["iconv", "data", "flat"], p=[0.4, 0.45, 0.15])
    batch = int(rng.integers(1, 6))
    if kind == "iconv":
        dims = (int(rng.integers(5, 15)), int(rng.integers(5, 15)), int(rng.integers(1, 5)))
        first = akq.InputConvolutional(dims, **random_conv_kwargs(rng, dims, True), name="l0",
                                       padding_value=int(rng.choice([0, -5, 300, 256, 127, 255, 3])))
        x = rng.integers(0, 256, (batch, *dims)).astype(np.uint8)
    else:
        dims = (1, 1, int(rng.integers(4, 60))) if kind == "flat" else (
            int(rng.integers(4, 13)), int(rng.integers(4, 13)), int(rng.integers(1, 9)))
        bits = int(rng.integers(1, 5))
        first = akq.InputData(dims, input_bits=bits, name="l0")
        x = rng.integers(0, 2**bits, (batch, *dims)).astype(np.uint8)
        x[rng.random(x.shape) < 0.3] = 0  # some sparsity
    model = akq.Model([first])
    current = x
    for index in range(int(rng.integers(1, 4))):
        last = index > 0 and rng.random() < 0.4
        in_dims = model.output_shape
        if index > 0 or kind != "iconv":
            spatial = in_dims[0] > 1 or in_dims[1] > 1
            choice = rng.choice(["conv", "sep", "fc"] if spatial else ["fc"], p=[0.45, 0.35, 0.2] if spatial else None)
            if choice == "fc":
                layer = akq.FullyConnected(int(rng.integers(1, 20)), name=f"l{len(model.layers)}",
                                           weights_bits=int(rng.choice([1, 2, 4, 8])),
                                           act_bits=int(rng.choice([1, 2, 4])))
            else:
                cls = akq.Convolutional if choice == "conv" else akq.SeparableConvolutional
                layer = cls(**random_conv_kwargs(rng, in_dims, False), name=f"l{len(model.layers)}")
            model.add(layer)
        layer = model.layers[-1]
        layer.set_variable("weights", random_weights(rng, layer.parameters.weights_bits,
                                                     layer.get_variable("weights").shape))
        if "weights_pw" in layer.variables:
            layer.set_variable("weights_pw", random_weights(rng, layer.parameters.weights_bits,
                                                            layer.get_variable("weights_pw").shape))
        pot = reference_layer(layer, current)
        calibrate(rng, layer, pot, extreme)
        current = reference_activation(layer, pot)
        if last:
            break
    if rng.random() < 0.5:
        model.layers[-1]._spec.activation = False  # last layer without activation: forward gives potentials
        model._invalidate()
    return model, x


# -- tests -----------------------------------------------------------------------------------------
def check_model(model, x):
    expected = reference_forward(model, x)
    for threads in (1, 2):
        got = model.forward(x, threads=threads)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    if not model.layers[-1].parameters.activation:
        got, expected = model.predict(x), reference_predict(model, x)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.int32), expected.view(np.int32))


@pytest.mark.parametrize("seed", range(120))
def test_random_models(seed, simd_level):
    check_model(*random_model(seed))


@pytest.mark.parametrize("seed", range(1000, 1040))
def test_random_models_with_extreme_thresholds_and_steps(seed, simd_level):
    check_model(*random_model(seed, extreme=True))


# Every valid (layer kind, weight bits, pooling): InputConvolutional needs >= 2 bits, FC cannot pool.
GRID = [(kind, bits, pool) for kind in ("iconv", "conv", "sep", "fc") for bits in (1, 2, 4, 8)
        for pool in ("none", "max", "max1", "avg")
        if not (kind == "iconv" and bits == 1) and not (kind == "fc" and pool != "none")]


def grid_model(kind, bits, pool, act_bits, seed):
    """One layer of each kind after a fixed input, saturating often (8-bit inputs and weights)."""
    rng = np.random.default_rng(seed)
    pool_kwargs = {"none": {}, "max": dict(pool_type=akq.PoolType.Max, pool_size=(3, 2), pool_stride=(2, 2)),
                   "max1": dict(pool_type=akq.PoolType.Max, pool_size=(1, 1)),
                   "avg": dict(pool_type=akq.PoolType.Average)}[pool]
    conv = dict(kernel_size=(5, 3), filters=11, kernel_stride=(2, 1), weights_bits=bits,
                activation=act_bits is not None, act_bits=act_bits or 1, **pool_kwargs)
    if kind == "iconv":
        model = akq.Model([akq.InputConvolutional((9, 8, 3), padding_value=-3, **conv)])
        x = rng.integers(0, 256, (3, 9, 8, 3)).astype(np.uint8)
    else:
        model = akq.Model([akq.InputData((9, 8, 6), input_bits=4)])
        x = rng.integers(0, 16, (3, 9, 8, 6)).astype(np.uint8)
        if kind == "fc":
            model.add(akq.FullyConnected(13, weights_bits=bits, activation=act_bits is not None,
                                         act_bits=act_bits or 1))
        else:
            model.add((akq.Convolutional if kind == "conv" else akq.SeparableConvolutional)(**conv))
    layer = model.layers[-1]
    for name in ("weights", "weights_pw"):
        if name in layer.variables:
            layer.set_variable(name, random_weights(rng, bits, layer.get_variable(name).shape))
    calibrate(rng, layer, reference_layer(layer, x), extreme=False)
    return model, x


@pytest.mark.parametrize("kind, bits, pool", GRID)
def test_grid_of_layer_types_bits_and_pooling(kind, bits, pool, simd_level):
    for act_bits in (None, 1, 2, 4):
        check_model(*grid_model(kind, bits, pool, act_bits, seed=bits * 100 + len(pool)))


def test_gap_is_a_saturating_row_major_sum():
    """1x1 InputConvolutional over 32 channels (+127 on the first 16, -128 on the rest) with GAP."""
    model = akq.Model([akq.InputConvolutional((2, 2, 32), 1, 1, weights_bits=8, pool_type=akq.PoolType.Average,
                                              activation=False)])
    model.layers[0].set_variable("weights", np.array([127] * 16 + [-128] * 16, np.int8).reshape(1, 1, 32, 1))
    x = np.zeros((1, 2, 2, 32), np.uint8)
    x[0, 0, 0, :16] = 255  # +518160
    x[0, 0, 1, :16] = 255  # +518160: the running sum saturates at 2^19 - 1
    x[0, 1, 0, 16:] = 255  # -522240
    # row-major: 518160, 524287 (clamped), 2047, 2047; column-major order would give 514080
    assert model.forward(x)[0, 0, 0, 0] == 2047
    assert reference_forward(model, x)[0, 0, 0, 0] == 2047


def test_max_pool_clamps_to_20_bits_but_a_1x1_pool_does_not():
    for pool_size, expected in (((1, 1), 16 * 255 * 127 * 2), ((2, 2), 2**19 - 1)):
        model = akq.Model([akq.InputConvolutional((2, 2, 32), 1, 1, weights_bits=8, pool_type=akq.PoolType.Max,
                                                  pool_size=pool_size, activation=False)])
        model.layers[0].set_variable("weights", np.full((1, 1, 32, 1), 127, np.int8))
        out = model.forward(np.full((1, 2, 2, 32), 255, np.uint8))
        assert out.max() == min(expected, 32 * 255 * 127) and out.dtype == np.int32


def test_plain_convolution_potentials_are_not_clamped():
    model = akq.Model([akq.InputConvolutional((3, 3, 4), 3, 2, weights_bits=8, activation=False)])
    model.layers[0].set_variable("weights", np.full((3, 3, 4, 2), -128, np.int8))
    out = model.forward(np.full((1, 3, 3, 4), 255, np.uint8))
    assert out[0, 1, 1, 0] == 36 * 255 * -128  # -1175040, beyond 20 bits


@pytest.mark.parametrize("act_bits", [1, 2, 4])
def test_step_is_truncated_to_sixteenths_and_levels_follow(act_bits):
    """Level k fires when p > th + (k-1) * floor(16 act_step) / 2^b (docs/spec C.6), step 1.0944 -> 17/16."""
    model = akq.Model([akq.InputData((1, 1, 1), input_bits=4), akq.FullyConnected(1, weights_bits=8,
                                                                                  act_bits=act_bits)])
    fc = model.layers[1]
    fc.set_variable("weights", np.full((1, 1, 1, 1), 100, np.int8))
    fc.set_variable("threshold", np.array([200], np.int32))
    fc.set_variable("act_step", np.array([1.0944437], np.float32))
    x = np.arange(16, dtype=np.uint8).reshape(16, 1, 1, 1)
    p = 100 * np.arange(16)
    expected = [sum(p_ * 2**act_bits > 200 * 2**act_bits + (k - 1) * 17 for k in range(1, 2**act_bits))
                for p_ in p]
    np.testing.assert_array_equal(model.forward(x).ravel(), expected)


def test_separable_with_sums_beyond_int16_uses_exact_int32():
    rng = np.random.default_rng(7)
    model = akq.Model([akq.InputData((7, 7, 9), input_bits=4),
                       akq.SeparableConvolutional((5, 5), 12, weights_bits=8, activation=False)])
    sep = model.layers[1]
    sep.set_variable("weights", np.full((5, 5, 9, 1), -128, np.int8))  # depthwise sums down to -48000
    sep.set_variable("weights_pw", random_weights(rng, 8, (1, 1, 9, 12)))
    check_model(model, np.full((2, 7, 7, 9), 15, np.uint8))
