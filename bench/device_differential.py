"""Long offline differential run of akq's AKD1000 mapper against akida 2.4.0 (needs akida installed).

    PYTHONPATH=python python bench/device_differential.py --seed 1 --count 5000 [--show 20]

Prints how many random models (tests/device_random_models.py) agree, by outcome, and the differing ones.
"""

import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import device_random_models as drm  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--show", type=int, default=20, help="differing models to print")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before akida's mapper is abandoned")
    parser.add_argument("--out", help="write every differing model and both outcomes to this JSON-lines file")
    args = parser.parse_args()
    kinds, differing = collections.Counter(), []
    with drm.AkidaWorker(args.timeout) as worker:
        for i, model in enumerate(drm.random_models(args.seed, args.count)):
            reference, ours = worker.outcome(model), drm.akq_outcome(model)
            kind = next(iter(reference))
            why = drm.difference(reference, ours)
            kinds[(kind, why is None)] += 1
            if why is not None:
                differing.append({"index": i, "model": model, "reference": reference, "akq": ours})
    total = sum(kinds.values())
    agree = sum(n for (_, ok), n in kinds.items() if ok)
    print(f"seed {args.seed}: {agree}/{total} models agree")
    for (kind, ok), n in sorted(kinds.items()):
        print(f"  reference {kind:<10} {'agree' if ok else 'differ'}: {n}")
    for case in differing[:args.show]:
        print(json.dumps(case))
    if args.out:
        with open(args.out, "w") as f:
            for case in differing:
                f.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()
