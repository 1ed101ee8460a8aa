"""The evaluation report (src/metrics/evaluate.py) as tables on a rich console."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _interval(estimate: dict[str, object], key: str = "value", low: str = "low", high: str = "high") -> str:
    text = _number(estimate[key])
    if estimate[low] is not None:
        text += f" [{_number(estimate[low])}, {_number(estimate[high])}]"
    return text


def write_scale_table(scale: dict[str, object], console: Console) -> None:
    """The floor scale: the Fréchet distance as a ratio to real-vs-real, density and coverage beside
    their real-data floors; the raw Fréchet values (tens of thousands) are only named in the floor column."""
    table = Table(title=f"floor scale: {scale['n_compared']} generated vs {scale['n_compared']} real clips against "
                        f"reference half A, {scale['splits']} splits, k={scale['k']}, [95% interval]")
    for column in ("score", "generated", "floor (real vs real)"):
        table.add_column(column)
    frechet = scale["frechet"]
    table.add_row("Fréchet ratio (lower is better, 1 = real)", _interval(frechet, "ratio", "ratio_low", "ratio_high"),
                  f"1 (raw {_number(frechet['floor'])})")
    for name in ("density", "coverage"):
        table.add_row(f"{name} (higher is better)", _interval(scale[name]), _number(scale[name]["floor"]))
    ceiling = scale.get("ceiling")
    if ceiling:
        table.add_row("ceiling: round-tripped real, Fréchet ratio", _number(ceiling["frechet"]["ratio"]), "1")
    console.print(table)
    counts = ", ".join(f"{count} {label}" for label, count in scale["class_counts"].items())
    console.print(f"nearest reference class of the {scale['n_generated']} generated clips: {counts}")


def write_memorization(memo: dict[str, object], console: Console) -> None:
    ratio = "n/a" if memo["ratio_of_medians"] is None else f"{memo['ratio_of_medians']:.3f}"
    console.print(
        f"memorisation vs {memo.get('against', 'reference')} ({memo['n_training']} clips): NN-distance ratio "
        f"{ratio} (≈1 healthy, ≈0 copying), {memo['fraction_closer_than_typical']:.0%} closer than typical "
        f"(≈50% healthy), {len(memo['suspected_copies'])} suspected copies")
    for copy in memo["suspected_copies"]:
        console.print(f"  {copy['generated']} ≈ {copy['training']} ({copy['distance_db']:.2f} dB)")


def write_table(report: dict[str, object], console: Console) -> None:
    """The report as tables on `console`: the scale first, then the raw distances and memorisation."""
    if report.get("scale"):
        write_scale_table(report["scale"], console)
    table = Table(title=f"raw distances: generated ({report['generated']['n']}) vs reference "
                        f"({report['reference']['n']}), value [95% interval], lower is better")
    for column in ("features", "dim", "Fréchet", "kernel (MMD²)"):
        table.add_column(column)
    for name, scores in report["metrics"].items():
        table.add_row(name, str(scores["dim"]), _interval(scores["frechet"]), _interval(scores["kernel"]))
    console.print(table)
    if report.get("memorization"):
        write_memorization(report["memorization"], console)
    if report.get("by_label"):
        write_label_table(report["by_label"], console)


def write_label_table(by_label: dict[str, object], console: Console) -> None:
    """Per requested label: the share of clips in their class and the class's own floor scale."""
    table = Table(title=f"by requested label: in class = share the k-NN classifier puts in that class "
                        f"(its accuracy on held-out reference clips: {by_label['classifier_accuracy']:.2f})")
    for column in ("label", "clips", "in class", "landed in", "class Fréchet ratio", "class density", "class coverage"):
        table.add_column(column)
    for label, entry in by_label["per_label"].items():
        scale = entry["scale"] or {}
        cells = [_number(scale[name]["ratio" if name == "frechet" else "value"]) if scale else "n/a"
                 for name in ("frechet", "density", "coverage")]
        landed = ", ".join(f"{name} {count}" for name, count in entry["landed"].items())
        table.add_row(label, str(entry["n"]), f"{entry['in_class']:.2f}", landed, *cells)
    console.print(table)
