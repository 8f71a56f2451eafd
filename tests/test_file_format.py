"""The .akq file format: exact round trips, the documented byte layout, atomic saves, hostile files.

Every malformed file must raise akq.errors.ModelFileError (never a crash, a hang or a huge
allocation). Hostile files are forged with tests/akq_layout.py, an independent codec of
docs/file-format.md, usually with a valid checksum so the reader's later checks are reached.
"""

import copy
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import akq
import akq_layout as layout
import numpy as np
import pytest
from akq.errors import LayerError, ModelFileError, PathError
from golden_cases import akida_model, all_cases

PYTHON_DIR = Path(akq.__file__).parent.parent


def random_model(seed=0) -> akq.Model:
    """A small model with every layer type after the input and random in-range variables."""
    rng = np.random.default_rng(seed)
    model = akq.Model([
        akq.InputConvolutional((9, 7, 3), (3, 5), 4, name="input_conv", weights_bits=8, act_bits=4,
                               padding_value=-5, pool_type=akq.PoolType.Max, pool_size=(2, 2),
                               pool_stride=(1, 2)),
        akq.Convolutional((3, 3), 5, name="conv", weights_bits=4, act_bits=2,
                          padding=akq.Padding.Valid, kernel_stride=(1, 2)),
        akq.SeparableConvolutional(3, 6, name="sépar", weights_bits=2,
                                   pool_type=akq.PoolType.Average),
        akq.FullyConnected(3, name="dense", weights_bits=1, activation=False),
    ])
    for layer in model.layers:
        bits = layer.parameters.weights_bits
        high = 127 if bits == 8 else (1 if bits == 1 else 2 ** (bits - 1) - 1)
        low = 0 if bits == 1 else -high - (bits == 8)
        for name in layer.variables:
            shape = layer.get_variable(name).shape
            if name.startswith("weights"):
                value = rng.integers(low, high + 1, shape).astype(np.int8)
            elif name == "threshold":
                value = rng.integers(-2**31, 2**31, shape, dtype=np.int64).astype(np.int32)
            else:
                value = (1 / 16 + rng.exponential(5.0, shape)).astype(np.float32)
            layer.set_variable(name, value)
    return model


def big_model(seed) -> akq.Model:
    """About 4 MB of weights: saving it takes long enough to be interrupted part-way."""
    model = akq.Model([akq.InputData((32, 32, 16), name="in"),
                       akq.FullyConnected(256, name="fc", weights_bits=8)])
    weights = np.random.default_rng(seed).integers(-128, 128, (1, 1, 32 * 32 * 16, 256), dtype=np.int8)
    model.get_layer("fc").set_variable("weights", weights)
    return model


@pytest.fixture(scope="module")
def model():
    return random_model()


@pytest.fixture(scope="module")
def data(model):
    return model.to_bytes()


@pytest.fixture(scope="module")
def fields(model):
    return [layout.layer_dict(layer) for layer in model.layers]


def assert_same_model(a: akq.Model, b: akq.Model):
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert layout.layer_dict(la) == layout.layer_dict(lb)
        assert vars(la.parameters) == vars(lb.parameters)


# -- round trips and the documented layout -----------------------------------------------------
def test_bytes_follow_the_documented_layout(model, data, fields):
    assert data == layout.encode(fields)
    header, layers, learning = layout.decode(data)
    assert header == (layout.MAGIC, 1, 0, len(data) - 36, 4, 0)  # no learning state: still version 1
    assert layers == fields and learning is None
    assert zlib.crc32(data[:-4]) == struct.unpack("<I", data[-4:])[0]


def test_round_trip_is_exact(model, data, tmp_path):
    loaded = akq.Model.from_bytes(data)
    assert_same_model(model, loaded)
    assert loaded.to_bytes() == data
    path = tmp_path / "model.akq"
    model.save(path)
    assert path.read_bytes() == data
    assert_same_model(model, akq.load_model(path))
    assert_same_model(model, akq.load_model(str(path)))
    assert isinstance(akq.load_model(path), akq.Model)


def test_float_bits_survive_exactly():
    model = random_model(1)
    layer = model.get_layer("conv")
    steps = np.array([1 / 16, np.nextafter(np.float32(1 / 16), np.float32(1)), 3.4028235e38, 1.0000001, 7.5],
                     np.float32)
    layer.set_variable("act_step", steps)
    loaded = akq.Model.from_bytes(model.to_bytes())
    assert loaded.get_layer("conv").get_variable("act_step").tobytes() == steps.tobytes()


@pytest.mark.parametrize("case", all_cases(), ids=str)
def test_golden_models_round_trip(case, tmp_path):
    model = akida_model(case)
    model.save(tmp_path / "m.akq")
    loaded = akq.load_model(tmp_path / "m.akq")
    assert_same_model(model, loaded)
    assert loaded.to_bytes() == model.to_bytes()


def test_models_pickle_through_the_same_bytes(model, data):
    clone = pickle.loads(pickle.dumps(model))
    assert_same_model(model, clone)
    assert clone.to_bytes() == data
    assert_same_model(model, copy.deepcopy(model))


def test_loaded_model_is_independent_and_editable(model, data):
    loaded = akq.Model.from_bytes(data)
    fc = loaded.get_layer("dense")
    fc.set_variable("threshold", np.arange(3, dtype=np.int32))
    assert not np.array_equal(model.get_layer("dense").get_variable("threshold"), np.arange(3))
    edited = loaded.to_bytes()
    assert edited != data and akq.Model.from_bytes(edited).to_bytes() == edited


def test_from_bytes_accepts_bytes_like_and_names_bad_types(data):
    assert akq.Model.from_bytes(bytearray(data)).to_bytes() == data
    assert akq.Model.from_bytes(memoryview(data)).to_bytes() == data
    with pytest.raises(ModelFileError, match="bytes, bytearray or memoryview, got str"):
        akq.Model.from_bytes("not bytes")
    with pytest.raises(TypeError, match="path must be a str, bytes or os.PathLike"):
        akq.load_model(42)


def test_paths_with_nul_are_refused_not_cut(model, tmp_path):
    with pytest.raises(PathError, match="NUL character"):
        model.save(str(tmp_path / "m.akq") + "\0.txt")
    with pytest.raises(ValueError, match="NUL character"):  # PathError keeps ValueError as its base
        akq.load_model(str(tmp_path / "m.akq") + "\0")
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_model_is_not_saved(tmp_path):
    with pytest.raises(LayerError, match="no layers"):
        akq.Model().save(tmp_path / "empty.akq")
    assert list(tmp_path.iterdir()) == []


# -- atomic, crash-safe saves ------------------------------------------------------------------
def test_save_replaces_the_file_and_leaves_no_temporary(model, data, tmp_path):
    path = tmp_path / "m.akq"
    path.write_bytes(b"old contents")
    model.save(path)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.akq"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like a file created with open()


def test_os_errors_are_os_errors_and_leave_nothing_behind(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        model.save(tmp_path / "no_such_dir" / "m.akq")
    (tmp_path / "a_dir").mkdir()
    with pytest.raises(IsADirectoryError):
        model.save(tmp_path / "a_dir")
    with pytest.raises(IsADirectoryError):
        akq.load_model(tmp_path / "a_dir")
    with pytest.raises(FileNotFoundError):
        akq.load_model(tmp_path / "missing.akq")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_dir"]
    assert list((tmp_path / "a_dir").iterdir()) == []


# -- paths and files that are not what they seem (issue 13) -------------------------------------
def test_save_never_replaces_a_fifo_or_a_device(model, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "to_null.akq").symlink_to("/dev/null")
    for target in (fifo, "/dev/null", tmp_path / "to_null.akq"):
        with pytest.raises(PathError, match="is not a regular file .* save the model to a file path"):
            model.save(target)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and (tmp_path / "to_null.akq").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "to_null.akq"]


def test_non_utf8_paths_round_trip(model, data, tmp_path):
    path = bytes(tmp_path) + b"/caf\xe9.akq"
    model.save(path)
    assert Path(os.fsdecode(path)).read_bytes() == data
    assert akq.load_model(os.fsdecode(path)).to_bytes() == data
    with pytest.raises(FileNotFoundError):
        akq.load_model(bytes(tmp_path) + b"/missing\xff.akq")
    with pytest.raises(PathError, match="cannot be encoded"):
        model.save(str(tmp_path / "\ud800.akq"))


def test_load_reads_the_header_first_and_then_in_bounded_pieces(model, data, tmp_path):
    with pytest.raises(ModelFileError, match="not an .akq model file"):
        akq.load_model("/dev/zero")  # an endless source: refused after its first bytes
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = run_python(f"open({str(fifo)!r}, 'wb').write({data!r})")
    assert akq.load_model(fifo).to_bytes() == data  # a pipe has no size: read what the header announces
    assert writer.wait(timeout=60) == 0
    huge = tmp_path / "huge.akq"
    with open(huge, "wb") as f:  # a valid model followed by a 1 GiB hole: sparse, costs no disk
        f.write(data)
        f.truncate(2**30)
    code = f"""
        import akq
        try:
            akq.load_model({str(huge)!r})
        except akq.errors.ModelFileError as error:
            print(error)
        print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
    """  # VmHWM: this process's peak memory (ru_maxrss would include the parent's before exec)
    message, peak_kib = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                                       text=True, check=True, env=_env()).stdout.splitlines()
    assert f"has {2**30 - len(data)} unexpected bytes after its end" in message
    assert int(peak_kib) < 300 * 1024  # the 1 GiB were never read


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(PYTHON_DIR) + os.pathsep + str(Path(__file__).parent))


def run_python(code: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=_env(), **kwargs)


def test_a_save_that_fails_mid_write_keeps_the_old_file(data, tmp_path):
    """The file-size limit makes write() fail part-way through a bigger model: the old file survives."""
    path = tmp_path / "m.akq"
    path.write_bytes(data)
    code = f"""
        import resource, signal, sys
        from test_file_format import big_model
        big = big_model(2)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(data) + 100}, resource.RLIM_INFINITY))
        try:
            big.save({str(path)!r})
        except OSError as e:
            print("OSError", e.errno)
            sys.exit(0)
        sys.exit("save did not fail")
    """
    proc = run_python(code, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "OSError 27" in out  # EFBIG
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.akq"]


def test_killing_a_saving_process_never_leaves_a_corrupt_file(tmp_path):
    """SIGKILL at random moments while two 4 MB models are saved in turn: the file is always one of them."""
    path = tmp_path / "m.akq"
    code = f"""
        import sys
        from test_file_format import big_model
        models = [big_model(3), big_model(4)]
        for m, name in zip(models, "ab"):
            m.save({str(tmp_path)!r} + "/" + name + ".akq")
        models[0].save({str(path)!r})
        print("ready", flush=True)
        i = 0
        while True:
            models[i % 2].save({str(path)!r})
            i += 1
    """
    rng = np.random.default_rng(0)
    expected = None
    for _ in range(6):
        proc = run_python(code, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        expected = expected or {(tmp_path / n).read_bytes() for n in ("a.akq", "b.akq")}
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert path.read_bytes() in expected
        akq.load_model(path)
    assert len(expected) == 2 and len(next(iter(expected))) > 4_000_000


# -- hostile files: every one raises ModelFileError ----------------------------------------------
def assert_rejected(data: bytes, match: str = ""):
    with pytest.raises(ModelFileError, match=match):
        akq.Model.from_bytes(data)


def test_every_truncation_is_rejected(data):
    for end in range(len(data)):
        assert_rejected(data[:end], "truncated|empty")


def test_every_single_bit_flip_is_detected(data):
    for i in range(len(data)):
        for bit in range(8):
            corrupted = bytearray(data)
            corrupted[i] ^= 1 << bit
            with pytest.raises(ModelFileError):
                akq.Model.from_bytes(bytes(corrupted))


def test_not_akq_data():
    for junk in (b"", b"hello world, this is not a model at all", b"\x89PNG\r\n\x1a\n" + bytes(64),
                 pickle.dumps({"a": 1})):
        assert_rejected(junk, "not an .akq model file|empty")


def test_a_wrong_checksum_is_named(data):
    assert_rejected(data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]) ^ 1), "CRC-32 checksum")


@pytest.mark.parametrize("kwargs, match", [
    (dict(version=0), "format version 0; this akq reads versions 1 to 2"),
    (dict(version=2), "num_weights needs 1 x 4 bytes"),  # a version-2 file must end with a learning record
    (dict(version=3), "format version 3"),
    (dict(version=0xFFFFFFFF), "format version 4294967295"),
    (dict(flags=1), "flags/reserved"),
    (dict(reserved=0x80000000), "flags/reserved"),
    (dict(body_size=2**64 - 1), "announces a body of 18446744073709551615 bytes but only"),
    (dict(body_size=2**63), "truncated"),
    (dict(layer_count=0), "bytes are left after the last of 0 layers"),
    (dict(layer_count=3), "bytes are left after the last of 3 layers"),
    (dict(layer_count=5), "truncated or corrupted"),
    (dict(layer_count=2**32 - 1), "layer records needs 4294967295"),
    (dict(extra_body=b"\0"), "1 bytes are left"),
])
def test_forged_header_fields(fields, kwargs, match):
    assert_rejected(layout.encode(fields, **kwargs), match)


def test_header_field_corruption_without_a_fixed_checksum(data):
    for offset in range(8, layout.HEADER_SIZE):
        corrupted = bytearray(data)
        corrupted[offset] ^= 0x40
        assert_rejected(bytes(corrupted), "format version|truncated|trailing|unexpected|CRC-32")


def test_trailing_bytes_are_rejected(data):
    assert_rejected(data + b"\0", "unexpected bytes after its end")
    assert_rejected(data + data, "unexpected bytes")


def forged(fields, index, **changes) -> bytes:
    layers = copy.deepcopy(fields)
    layers[index].update(changes)
    return layout.encode(layers)


BIG = 2**31 - 1


@pytest.mark.parametrize("index, changes, match", [
    # lengths and shapes that would overflow or allocate gigabytes
    (1, dict(name_size=2**32 - 1), "layer name needs 4294967295"),
    (1, dict(weights=((BIG, BIG, BIG, BIG), b"")), r"weights shape \(2147483647.*needs more than"),
    (1, dict(weights=((65536, 65536, 65536, 65536), b"")), "needs more than"),
    (1, dict(weights=((3, 3, 4, -5), b"")), "negative dimension"),
    (2, dict(weights_pw=((1, 1, 5, 2**30), b"")), "needs more than"),
    (1, dict(threshold_count=2**32 - 1), "threshold needs 4294967295 x 4"),
    (1, dict(act_step_count=2**30), "act_step needs 1073741824 x 4"),
    (3, dict(threshold=[0, 0]), "threshold has 2 values, expected 3"),
    # unknown codes and bad text
    (1, dict(type=5), "layer type code 5"),
    (1, dict(padding=2), "padding code 2"),
    (1, dict(pool_type=7), "pool type code 7"),
    (1, dict(activation=2), "activation flag 2"),
    (1, dict(name=b"\xff\xfe"), "not valid UTF-8"),
    (1, dict(name=b"\xed\xa0\x80"), "not valid UTF-8"),  # an encoded surrogate
    (1, dict(name=b"input_conv"), "names must be unique"),
    # layer parameters and chains
    (0, dict(type=2), "first layer must be InputData or InputConvolutional"),
    (1, dict(type=0), "can only be the first layer"),
    (1, dict(input_dims=(8, 3, 4), output_dims=(6, 1, 5)), r"\(8, 3, 4\) differ from the output \(9, 4, 4\)"),
    (1, dict(output_dims=(6, 2, 6)), "do not follow from the parameters"),
    (0, dict(input_dims=(0, 7, 3)), "must be positive"),
    (0, dict(input_dims=(65536, 65536, 3)), "too large"),
    (1, dict(kernel_size=(BIG, BIG), kernel_stride=(BIG, BIG), padding=1), "at most 65536"),
    (0, dict(pool_size=(BIG, BIG), pool_stride=(BIG, BIG), padding=1), "at most 65536"),
    (0, dict(kernel_stride=(BIG, BIG)), "at most 65536"),  # an InputConvolutional may stride past its kernel
    (1, dict(kernel_size=(4, 3)), "odd"),
    (1, dict(kernel_stride=(5, 1)), "larger than the kernel"),
    (1, dict(filters=0), "between 1 and 65536"),
    (1, dict(weights_bits=3), "weights_bits must be 1, 2, 4 or 8"),
    (0, dict(weights_bits=9), "weights_bits must be between 1 and 8"),
    (1, dict(act_bits=8), "act_bits must be 1, 2 or 4"),
    (3, dict(pool_type=1), "cannot pool"),
    (2, dict(pool_size=(2, 2)), "average pooling is always global"),
    (0, dict(pool_stride=(3, 3)), "pool_stride cannot be larger"),
    (2, dict(activation=0), "only the last layer may omit it"),
    # variables
    (1, dict(act_step=np.array([np.nan] * 5, "<f4").tobytes()), "act_step nan"),
    (1, dict(act_step=np.array([1, 1, np.inf, 1, 1], "<f4").tobytes()), "act_step inf"),
    (1, dict(act_step=np.array([1, 1, -np.inf, 1, 1], "<f4").tobytes()), "act_step -inf"),
    (1, dict(act_step=np.array([1, 1, 0.0624, 1, 1], "<f4").tobytes()), "at least 1/16"),
    (1, dict(act_step=np.array([1, 1, -1, 1, 1], "<f4").tobytes()), "at least 1/16"),
    (3, dict(weights_pw=((1, 1, 6, 3), bytes(18))), "has no variable weights_pw"),
])
def test_forged_layer_fields(fields, index, changes, match):
    assert_rejected(forged(fields, index, **changes), match)


@pytest.mark.parametrize("variable, bits, value", [
    ("weights", 4, 8), ("weights", 4, -8), ("weights", 1, 2), ("weights", 1, -1),
    ("weights", 2, 2), ("weights", 2, -2), ("weights_pw", 2, 3),
])
def test_out_of_range_weights(fields, variable, bits, value):
    index = {4: 1, 1: 3, 2: 2}[bits]
    shape, raw = fields[index][variable]
    raw = bytearray(raw)
    raw[len(raw) // 2] = value & 0xFF
    assert_rejected(forged(fields, index, **{variable: (shape, bytes(raw))}), f"value {value} is outside")


def test_input_data_with_variables_is_rejected():
    model = akq.Model([akq.InputData((4, 4, 2), name="in"), akq.FullyConnected(2, name="fc")])
    fields = [layout.layer_dict(layer) for layer in model.layers]
    assert_rejected(forged(fields, 0, threshold=[1]), "InputData layer has no threshold")
    assert_rejected(forged(fields, 0, weights=((1, 1, 1, 1), b"\1")), "has no variable weights")
    assert_rejected(forged(fields, 0, input_bits=9), "input_bits must be between 1 and 8")
    assert_rejected(forged(fields, 0, input_bits=8), "more than 4 bits")


def test_valid_kernel_larger_than_input_by_less_than_the_stride():
    """floor((2 - 3) / 3) + 1 = 0 outputs; truncating division used to give 1 (an out-of-bounds window)."""
    model = akq.Model([akq.InputData((2, 9, 1), name="in"), akq.Convolutional(1, 1, name="c")])
    fields = [layout.layer_dict(layer) for layer in model.layers]
    assert_rejected(forged(fields, 1, padding=0, kernel_size=(3, 3), kernel_stride=(3, 3),
                           output_dims=(1, 3, 1),
                           weights=((3, 3, 1, 1), bytes(9))), "larger than the 'valid'-padded input")
    with pytest.raises(LayerError, match="larger than the 'valid'-padded input"):
        akq.Model([akq.InputData((2, 9, 1)),
                   akq.Convolutional(3, 1, kernel_stride=3, padding=akq.Padding.Valid)])


def test_sizes_that_would_overflow_are_refused_when_building():
    with pytest.raises(LayerError, match="output dimensions .* too large"):
        akq.Model([akq.InputData((16384, 16384, 1)), akq.Convolutional(1, 65536)])
    with pytest.raises(LayerError, match="more than 2\\^30 weights"):
        akq.Model([akq.InputData((4096, 4096, 16)), akq.FullyConnected(16)])


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer maps terabytes of shadow memory, so RLIMIT_AS cannot apply; "
                           "scripts/sanitize.sh caps allocations with max_allocation_size_mb instead")
def test_forged_lengths_allocate_nothing_huge(fields):
    """Under a 1.5 GiB address-space limit, forged multi-gigabyte lengths still give ModelFileError."""
    code = """
        import resource, sys, copy
        import akq, akq_layout as layout
        from akq.errors import ModelFileError
        from test_file_format import random_model
        fields = [layout.layer_dict(l) for l in random_model().layers]
        limit = 1536 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        forgeries = [dict(name_size=2**32 - 1), dict(threshold_count=2**32 - 1),
                     dict(act_step_count=2**32 - 1),
                     dict(weights=((65535, 65535, 65535, 65535), b"")), dict(weights=((1, 1, 2**30, 3), b""))]
        for changes in forgeries:
            layers = copy.deepcopy(fields)
            layers[1].update(changes)
            try:
                akq.Model.from_bytes(layout.encode(layers))
            except ModelFileError:
                continue
            sys.exit(f"accepted {changes}")
        print("ok")
    """
    proc = run_python(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out == "ok\n", err


# -- processes and threads ---------------------------------------------------------------------
def _bytes_in_worker(model) -> bytes:
    return model.to_bytes()


def test_models_ship_to_worker_processes(model, data):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert list(pool.map(_bytes_in_worker, [model, model])) == [data, data]


def test_threads_save_and_load_concurrently(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    models = [random_model(seed) for seed in range(4)]

    def work(i):
        path = tmp_path / f"m{i % 4}-{i}.akq"
        for _ in range(20):
            models[i % 4].save(path)
            assert akq.load_model(path).to_bytes() == models[i % 4].to_bytes()
        return akq.Model.from_bytes(path.read_bytes()).to_bytes()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [models[i % 4].to_bytes() for i in range(8)]


# -- version 2: the learning record of a model compiled for learning (docs/learning.md) ------------
def learning_model() -> akq.Model:
    """A compiled model that has learned a little, so every learning variable is non-trivial."""
    model = akq.Model([akq.InputData((2, 3, 4), input_bits=1, name="in"),
                       akq.FullyConnected(6, name="learner", weights_bits=1, activation=False)])
    model.compile(akq.AkidaUnsupervised(7, num_classes=3, initial_plasticity=0.8, learning_competition=0.3,
                                        min_plasticity=0.2, plasticity_decay=0.15), seed=5)
    rng = np.random.default_rng(5)
    model.fit((rng.random((12, 2, 3, 4)) < 0.5).astype(np.uint8), rng.integers(0, 3, 12))
    return model


def test_a_learning_model_is_version_2_with_the_documented_record():
    model = learning_model()
    data = model.to_bytes()
    learning = layout.learning_dict(model)
    assert data == layout.encode([layout.layer_dict(layer) for layer in model.layers], learning=learning)
    header, _, stored = layout.decode(data)
    assert header[1] == 2 == akq.model.files.FORMAT_VERSION and stored == learning


def test_learning_state_survives_bytes_files_and_pickling(tmp_path):
    model = learning_model()
    model.save(tmp_path / "learner.akq")
    for copy_ in (akq.Model.from_bytes(model.to_bytes()), akq.load_model(tmp_path / "learner.akq"),
                  pickle.loads(pickle.dumps(model))):
        assert copy_.learning == model.learning
        assert copy_.to_bytes() == model.to_bytes()
        for name in ("weights", "threshold_learning", "thswap"):
            np.testing.assert_array_equal(copy_.layers[-1].get_variable(name), model.layers[-1].get_variable(name))


def test_learning_goes_on_after_loading():
    model = learning_model()
    inputs = (np.random.default_rng(6).random((5, 2, 3, 4)) < 0.5).astype(np.uint8)
    first, second = akq.Model.from_bytes(model.to_bytes()), akq.Model.from_bytes(model.to_bytes())
    for copy_ in (first, second):
        copy_.layers[-1].set_variable("threshold_learning", np.zeros(6, np.int32))  # every unit may learn again
    np.testing.assert_array_equal(first.fit(inputs), second.fit(inputs))
    assert first.to_bytes() == second.to_bytes()
    assert (first.layers[-1].get_variable("weights") != model.layers[-1].get_variable("weights")).any()


def test_forged_learning_records_are_rejected():
    model = learning_model()
    fields = [layout.layer_dict(layer) for layer in model.layers]
    good = layout.learning_dict(model)
    for change, match in [(dict(num_weights=25), "num_weights=25 must be in \\[1, 24\\]"),
                          (dict(num_classes=4), "cannot be split evenly into num_classes=4"),
                          (dict(min_plasticity=1.5), "must be in \\[0, 1\\]"),
                          (dict(plasticity_decay=float("nan")), "must be in \\[0, 1\\]"),
                          (dict(thswap=[1, 2]), "thswap has 2 values, expected 6"),
                          (dict(thswap_count=2**31), "thswap needs 2147483648 x 4 bytes")]:
        assert_rejected(layout.encode(fields, learning={**good, **change}), match)
    unlearnable = [dict(fields[0]), dict(fields[1], weights_bits=2)]
    assert_rejected(layout.encode(unlearnable, learning=good), "only 1-bit weights learn")
    assert_rejected(layout.encode(fields, learning=good)[:-9], "truncated")
