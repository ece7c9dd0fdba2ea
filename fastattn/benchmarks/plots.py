"""PNG plots of a benchmark run (needs matplotlib: ``pip install 'fastattn[plot]'``).

- ``latency.png``: median latency against sequence length, log-log, one line per
  implementation and kernel (dotted: peers; dashed: scalar kernels);
- ``tradeoff.png``: latency and energy per call against quality at the longest length
  measured, every implementation and kernel one point.
"""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def _series_name(r: dict) -> str:
    return r["name"] + (f" [{r['variant']}]" if r["variant"] else "")


def _save(plt, fig, legend_ax, path: Path) -> Path:
    """Puts the legend right of `legend_ax` (outside the data), writes the PNG, frees fig."""
    legend_ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def latency_plot(path: Path, head: dict, rows: list) -> Path:
    plt = _pyplot()
    series: dict = {}
    for r in rows:
        name = r["family"] + (f" [{r['variant']}]" if r["variant"] else "")
        series.setdefault(name, []).append((r["length"], r["median_s"] * 1e3))
    fig, ax = plt.subplots(figsize=(10, 6), dpi=80)
    cmap = plt.get_cmap("tab20")
    for i, (name, points) in enumerate(sorted(series.items())):
        points.sort()
        xs, ys = zip(*points)
        style = ":" if "[" not in name else ("--" if "scalar" in name else "-")
        ax.plot(xs, ys, style, marker="o", markersize=3, linewidth=1.2, label=name,
                color=cmap(i % 20))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length L (queries = keys)")
    ax.set_ylabel("median latency per call (ms)")
    ax.set_title(f"fastattn {head['fastattn']}: {head['cpu']}, {head['threads']} thread(s)",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    return _save(plt, fig, ax, path)


def tradeoff_plot(path: Path, head: dict, rows: list) -> Path:
    """Two panels at the longest length: latency (every kernel apart) and energy per call
    (measured, or modelled: the model prices the work, so kernels of one op coincide)
    against quality."""
    plt = _pyplot()
    longest = max(r["length"] for r in rows)
    at = sorted((r for r in rows if r["length"] == longest), key=_series_name)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6), dpi=80, sharex=True)
    cmap = plt.get_cmap("tab20")
    for i, r in enumerate(at):
        marker = "s" if r["kind"] == "peer" else ("o" if r["exact"] else "^")
        style = dict(marker=marker, s=36, color=cmap(i % 20), label=_series_name(r))
        left.scatter(r["quality"], r["median_s"] * 1e3, **style)
        right.scatter(r["quality"], r["energy_j"] * 1e3, **style)
    for ax, what in ((left, "median latency per call (ms)"),
                     (right, f"energy per call (mJ), {at[0]['energy_label']}")):
        ax.set_yscale("log")
        ax.set_xlabel("quality: 1 - ||out - exact|| / ||exact|| (structured inputs)")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"{at[0]['shape']}, {head['cpu']}, {head['threads']} thread(s): cost against "
                 "quality (squares: peers, circles: exact, triangles: approximations)",
                 fontsize=10)
    return _save(plt, fig, right, path)


def write(out_dir: Path, head: dict, rows: list) -> list:
    rows = [r for r in rows if r["length"] == r["key_length"]]  # decode rows: table only
    if not rows:
        return []
    return [latency_plot(Path(out_dir) / "latency.png", head, rows),
            tradeoff_plot(Path(out_dir) / "tradeoff.png", head, rows)]
