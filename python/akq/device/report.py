"""The hardware report of a model: mapping on the virtual AKD1000, hardware check, performance estimate."""

from __future__ import annotations

from pathlib import Path

from .mapping import AKD1000, check_hardware
from .performance import Performance


def hardware_report(model, sample, plot_dir=None) -> dict:
    """Map `model` on the virtual AKD1000 and estimate its performance on `sample` inputs.

    Returns nps, latency_ms, fps, energy_mj, software_layers, problems (hardware-check messages), the
    Performance object and, if `plot_dir` is given, {title: path} of the per-layer chart.
    """
    model.map(AKD1000())
    model.forward(sample)
    performance = Performance(model)
    software = [layer.name for seq in model.sequences if seq.backend.name == "Software" for layer in seq.layers]
    report = {"nps": performance.nps, "latency_ms": 1e3 * performance.latency_s, "fps": performance.frames_per_s,
              "energy_mj": 1e3 * performance.energy_per_frame_j, "software_layers": software,
              "hrc": any(np.type.name == "HRC" for layer in model.layers if layer.mapping
                         for np in layer.mapping.nps),
              "problems": [str(p) for p in check_hardware(model)], "performance": performance, "plots": {}}
    if plot_dir is not None:
        from ..plot.performance import plot_performance

        report["plots"]["per-layer events and cycles"] = plot_performance(performance, Path(plot_dir) / "layers.png")
    return report


def hardware_text(model, sample, sample_description: str) -> str:
    """Mapping, hardware check and performance estimate of `model` on the AKD1000, as text."""
    report = hardware_report(model, sample)
    lines = ["Mapping on the virtual AKD1000:"]
    for seq in model.sequences:
        lines.append(f"  {seq.name} ({seq.backend.name})"
                     + (f", program {seq.program_size} bytes" if seq.program_size else ""))
        for layer in seq.layers:
            nps = layer.mapping.nps if layer.mapping else []
            where = ", ".join(f"{np.type.name} {tuple(np.ident)}" + (f" {np.filters} filters" if np.filters else "")
                              for np in nps) or "software"
            lines.append(f"    {layer.name:<26}{where}")
    lines.append("Hardware check: " + ("every layer fits the AKD1000" if not report["problems"] else
                                       f"{len(report['problems'])} problem(s)"))
    lines += [f"  - {problem}" for problem in report["problems"]]
    lines.append(f"Estimated performance per frame on {sample_description}:")
    lines.append(str(report["performance"]))
    return "\n".join(lines)
