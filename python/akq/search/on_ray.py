"""The Ray backend: each configuration is a Ray Tune trial, on a local cluster or one joined by address.

A Tune searcher hands out the search's rounds (a round starts once the previous one is complete, which
keeps the rows identical to an in-process run) and streams each row to the store as its trial ends.
Trials whose worker dies or raises are retried by Tune (`retries` times) before the sweep fails.
Ray Client ("ray://") is refused: Tune would run the searcher on the cluster, away from the CSV.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from contextlib import contextmanager

from ray import tune
from ray.tune.search import Searcher

from ..errors import SweepError
from .objective import evaluate


def run_on_ray(task, search_rounds, store, progress, address: str, retries: int) -> int:
    """Run the search's trials with Ray Tune: the number of trials retried; SweepError if some still
    fail after their retries."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no status tables, the bar suffices
    searcher = _RoundSearcher(search_rounds, store, progress)
    recoveries = _Recoveries()
    trainable = tune.with_resources(tune.with_parameters(_trial, task=task), {"cpu": 1})
    with _connected(address), tempfile.TemporaryDirectory(prefix="akq-sweep-") as storage:
        tuner = tune.Tuner(trainable,
                           tune_config=tune.TuneConfig(search_alg=searcher, num_samples=-1, reuse_actors=True),
                           run_config=tune.RunConfig(name="akq-sweep", storage_path=storage, verbose=0,
                                                     failure_config=tune.FailureConfig(max_failures=retries),
                                                     callbacks=[recoveries]))
        tuner.fit()
    if searcher.failed:
        raise SweepError(f"{len(searcher.failed)} trial(s) failed {retries + 1} times, e.g. {searcher.failed[0]}; "
                         "the other rows are in the CSV: run the sweep again to retry only those")
    return recoveries.count


def _trial(config, task):
    tune.report({"row": json.dumps(evaluate(task, config))})


@contextmanager
def _connected(address: str):
    """Ray connected to `address` ("local" starts a cluster); an existing connection is kept as is."""
    import ray

    tune_logger = logging.getLogger("ray.tune")
    level = tune_logger.level
    tune_logger.setLevel(logging.WARNING)  # Tune's INFO lines would break the progress bar
    if address.startswith("ray://") or ray.util.client.ray.is_connected():
        raise SweepError(f"ray_address {address!r}: through Ray Client, Tune would run the search on the cluster, "
                         "away from this process's CSV and progress bar; run the sweep on the cluster instead "
                         "(e.g. `ray job submit -- python sweep.py` with ray_address='auto')")
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False, include_dashboard=False, runtime_env=_local_env(address))
    try:
        yield
    finally:
        tune_logger.setLevel(level)
        if started:
            ray.shutdown()


def _local_env(address: str):
    """On a local cluster, the workers get this process's PYTHONPATH with absolute paths (Tune runs
    trials in their own directories, where a relative path such as PYTHONPATH=python means nothing)."""
    path = os.environ.get("PYTHONPATH")
    if address != "local" or not path:
        return None
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in path.split(os.pathsep) if p)}}


class _Recoveries(tune.Callback):
    """Counts the trials Tune restarts after a failure."""

    def __init__(self):
        self.count = 0

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.count += 1


class _RoundSearcher(Searcher):
    """A Tune searcher over the search's rounds: waits for a round to finish before the next one."""

    def __init__(self, search_rounds, store, progress):
        super().__init__()
        self._rounds, self._store, self._progress = search_rounds, store, progress
        self._queue: list[dict] = []
        self._running: dict[str, dict] = {}
        self._finished = False
        self.failed: list[dict] = []

    def __getstate__(self):  # Tune pickles its searcher to save the experiment: keep the live objects out
        return {k: v for k, v in self.__dict__.items() if k not in ("_rounds", "_store", "_progress")}

    def save(self, checkpoint_path):  # the CSV is the sweep's state: nothing else to save
        pass

    def suggest(self, trial_id):
        while not self._queue and not self._running and not self._finished:
            try:
                self._queue = list(next(self._rounds))
            except StopIteration:
                self._finished = True
        if self._finished:
            return self.FINISHED
        if not self._queue:
            return None  # the round's last trials are still running
        self._running[trial_id] = config = self._queue.pop(0)
        return dict(config)

    def on_trial_complete(self, trial_id, result=None, error=False):
        config = self._running.pop(trial_id)
        if error or not result or "row" not in result:
            self.failed.append(config)  # kept out of the CSV: a later run retries it
            self._store.done[tuple(config.values())] = {"error": "trial failed", "fits": False}
        else:
            self._store.add(config, json.loads(result["row"]))
        self._progress.update()
