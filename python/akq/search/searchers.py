"""How a sweep picks configurations: the exhaustive grid, or Optuna's TPE under a budget.

Both propose configurations in rounds and learn from a round only once all its rows are in, in the
order proposed. The rows therefore depend on the seed and `round_size` only, never on which backend
ran the trials or in which order they finished: the in-process and Ray backends give the same rows.
"""

from __future__ import annotations

from ..errors import SweepError
from .space import Space

#: Above this many configurations the grid is refused: give a budget instead.
MAX_GRID = 4096
#: TPE's objectives: the integer model's accuracy up, the energy and the latency per frame down.
OBJECTIVES = (("integer_accuracy", "maximize"), ("energy_mj", "minimize"), ("latency_ms", "minimize"))


class GridSearch:
    """Every configuration of the space, in one round."""

    def __init__(self, space: Space):
        if space.size > MAX_GRID:
            raise SweepError(f"the grid has {space.size} configurations (more than {MAX_GRID}); give a "
                             "budget to search it with TPE instead of trying them all")
        self._configs = space.grid()
        self.planned = len(self._configs)

    def next_round(self) -> list[dict] | None:
        configs, self._configs = self._configs, None
        return configs or None

    def record(self, configs: list[dict], rows: list[dict]) -> None:
        pass


class TpeSearch:
    """Optuna's multi-objective TPE (seeded): `budget` distinct configurations, `round_size` at a time.

    Configurations that do not fit the AKD1000 are told as infeasible (Optuna's constraints), those the
    converter refuses as failed trials.
    """

    def __init__(self, space: Space, budget: int, seed: int, round_size: int):
        try:
            import optuna
        except ImportError as error:
            raise SweepError("a budgeted search needs optuna: pip install 'akq[ray]' (or optuna)") from error
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                             n_startup_trials=max(1, min(10, budget // 3)))
        self._study = optuna.create_study(directions=[d for _, d in OBJECTIVES], sampler=sampler)
        self._space, self._budget, self._round_size = space, budget, round_size
        self._seen: set[tuple] = set()
        self._asked = 0
        self._trials: list = []
        self.planned = budget

    def next_round(self) -> list[dict] | None:
        configs, self._trials = [], []
        left = self._budget - len(self._seen)
        while left > 0 and len(self._trials) < self._round_size and self._asked < 20 * self._budget:
            trial = self._study.ask()
            self._asked += 1
            config = self._space.config({name: trial.suggest_categorical(name, choices)
                                         for name, choices in self._space.choices.items()})
            key = tuple(config.values())
            left -= key not in self._seen
            self._seen.add(key)
            self._trials.append(trial)
            configs.append(config)
        return configs or None

    def record(self, configs: list[dict], rows: list[dict]) -> None:
        from optuna.trial import TrialState

        for trial, row in zip(self._trials, rows):
            if row["error"]:
                self._study.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_constraint("fits the AKD1000", 0.0 if row["fits"] else 1.0)
            self._study.tell(trial, [row[metric] for metric, _ in OBJECTIVES])


def make_searcher(space: Space, budget, seed: int, round_size: int):
    """The grid if there is no budget or it covers the whole space, TPE otherwise."""
    for name, value in (("budget", budget), ("round_size", round_size)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SweepError(f"{name} must be a positive number of configurations, got {value!r}")
    if budget is None or budget >= space.size:
        return GridSearch(space)
    return TpeSearch(space, budget, seed, round_size)


def rounds(searcher, done: dict, order: dict):
    """Yield, round after round, the configurations whose rows are not in `done` (keyed by config
    tuple); the caller puts their rows into `done` before asking for the next round. `order` gets
    every distinct configuration proposed, in order."""
    while (configs := searcher.next_round()) is not None:
        for config in configs:
            order.setdefault(tuple(config.values()), config)
        missing = list({tuple(c.values()): c for c in configs if tuple(c.values()) not in done}.values())
        yield missing
        searcher.record(configs, [done[tuple(c.values())] for c in configs])

