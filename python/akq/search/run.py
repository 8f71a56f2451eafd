"""`akq.sweep`: measure bit-width configurations of a float model on the virtual AKD1000."""

from __future__ import annotations

import time

from ..errors import SweepError
from .objective import layer_kinds, make_task
from .result import SweepResult
from .searchers import make_searcher, rounds
from .space import per_layer_space, uniform_space
from .store import RowStore


def sweep(float_model, x, y, *, weight_bits=(2, 4), activ_bits=(1, 2, 4), input_weight_bits=(8,),
          per_layer: bool = False, fine_tune_epochs: int = 0, input_scaling=None, budget: int | None = None,
          ray_address: str | None = None, seed: int = 0, train_data=None, csv=None, round_size: int = 8,
          retries: int = 2, progress: bool = True) -> SweepResult:
    """Quantize, convert, run and map `float_model` at many bit widths; one row per configuration.

    Each configuration is quantized (`akq.quantize`, then `akq.quantize_layer` per layer), optionally
    fine-tuned, converted (`akq.convert`), run on `x` by the akq engine, mapped on `akq.AKD1000()`,
    checked (`akq.check_hardware`) and estimated (`akq.Performance`).

    Parameters
    ----------
    float_model : keras.Model
        The float model (Sequential or linear functional, as `akq.quantize` takes).
    x, y : arrays
        Keras inputs and integer labels the accuracies are measured on.
    weight_bits, activ_bits, input_weight_bits : ints
        The widths to try for the neural layers but the first, the activations and the first layer.
    per_layer : bool
        Give every layer its own width (configurations add each layer's width by name); otherwise one
        width per kind of layer.
    fine_tune_epochs : int
        Epochs of fine-tuning of each quantized model (Adam, cross-entropy of logits) on `train_data`
        (default x, y).
    input_scaling : (float, float), optional
        `akq.convert`'s: the integer model takes `a * x + s` (e.g. (255, 0) for pixels / 255).
    budget : int, optional
        Configurations to try, chosen by Optuna's multi-objective TPE (seeded); None tries them all.
    ray_address : str, optional
        Run each configuration as a Ray Tune trial: "local" starts a local cluster, "auto" or an
        address "host:port" joins one from one of its nodes (an existing `ray.init()` connection is
        used as is; Ray Client "ray://" addresses are refused). Default: in this process.
    seed : int
        Seeds the search and each trial's Keras randomness: rows are the same on either backend.
    csv : str or Path, optional
        Rows stream to this file as they are measured; a sweep restarted on it runs only the rest.
    round_size : int
        Configurations TPE proposes before learning from their rows (the trials run in parallel on Ray).
    retries : int
        Times Ray retries a failed trial (a dead worker, an exception) before the sweep fails.
    progress : bool
        Show a progress bar.

    Returns
    -------
    akq.SweepResult
    """
    start = time.perf_counter()
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise SweepError(f"retries must be an integer >= 0, got {retries!r}")
    task = make_task(float_model, x, y, train_data, fine_tune_epochs, input_scaling, seed)
    if per_layer:
        widest = {"weight_bits": max(weight_bits), "activ_bits": max(activ_bits),
                  "input_weight_bits": max(input_weight_bits)}
        space = per_layer_space(layer_kinds(task.float_model(), widest), weight_bits, activ_bits,
                                input_weight_bits)
    else:
        space = uniform_space(weight_bits, activ_bits, input_weight_bits)
    searcher = make_searcher(space, budget, seed, round_size)
    store = RowStore(csv, space.keys, task.digest)
    order: dict[tuple, dict] = {}
    search_rounds = rounds(searcher, store.done, order)
    bar = _progress_bar(searcher.planned, min(store.resumed, searcher.planned), progress)
    with bar:
        if ray_address is None:
            from .inprocess import run_in_process

            retried = run_in_process(task, search_rounds, store, bar)
        else:
            try:
                from .on_ray import run_on_ray
            except ImportError as error:
                raise SweepError("ray_address needs Ray Tune: pip install 'akq[ray]'") from error
            retried = run_on_ray(task, search_rounds, store, bar, ray_address, retries)
    store.finish(list(order.values()))
    rows = [{"config": config, **store.done[key]} for key, config in order.items()]
    stats = {"planned": searcher.planned, "resumed": store.resumed,
             "ran": len(store.done) - store.resumed, "retried": retried, "seconds": time.perf_counter() - start}
    return SweepResult(rows, task.digest, stats)


def _progress_bar(total: int, initial: int, enabled: bool):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="akq sweep", unit="config", disable=not enabled,
                file=sys.stderr, leave=False)
