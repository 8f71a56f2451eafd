"""AkidaNet 0.5/224 and DS-CNN KWS as BrainChip's model zoo builds them, with the figures BrainChip
publishes for them on the AKD1000 reference board (AKD1000-FACTS); used by bench/device.py and the tests."""

import akq

STATIC_BOARD_W = 0.912  # the reference board's floor (AKD1000-FACTS)
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
