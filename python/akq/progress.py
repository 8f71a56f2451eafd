"""The progress bar of long loops (the CLI, the demo, batched runs), on stderr."""

from __future__ import annotations

import sys


def progress(iterable, description: str, disable: bool):
    """`iterable` with a tqdm bar named `description`, unless `disable`."""
    from tqdm import tqdm

    return tqdm(iterable, desc=description, disable=disable, leave=False, file=sys.stderr)
