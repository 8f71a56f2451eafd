"""Plain-text tables of per-layer figures, for akq.Statistics and akq.Performance."""

from __future__ import annotations


def table_lines(columns, items) -> list[str]:
    """The header, a rule and one row per item.

    columns: (title, width, value, spec) each, value(item) giving the cell and spec its format
    ("" or e.g. ".3f"); the first column is left-aligned, the others right-aligned.
    """
    aligns = ["<"] + [">"] * (len(columns) - 1)
    header = "".join(f"{title:{align}{width}}" for align, (title, width, _, _) in zip(aligns, columns))
    rows = [header, "-" * len(header)]
    for item in items:
        rows.append("".join(f"{value(item):{align}{width}{spec}}"
                            for align, (_, width, value, spec) in zip(aligns, columns)))
    return rows
