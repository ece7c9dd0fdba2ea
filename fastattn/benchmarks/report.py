"""The benchmark's report: header, table (text and Markdown), JSON, and the plots."""

from __future__ import annotations

import json
import statistics
from importlib.util import find_spec
from pathlib import Path

COLUMNS = (
    # (title, row -> text, align)
    ("shape", lambda r: r["shape"], "<"),
    ("implementation", lambda r: r["name"], "<"),
    ("kernel", lambda r: r["variant"] or "-", "<"),
    ("thr", lambda r: str(r["threads"]), ">"),
    ("ms", lambda r: f"{r['median_s'] * 1e3:.3f}", ">"),
    ("GOP/s", lambda r: f"{r['gops']:.1f}", ">"),
    ("speed-up", lambda r: "" if r.get("speedup") is None
        else f"{r['speedup']:.2f}x vs {r['baseline']}", "<"),
    ("quality", lambda r: f"{r['quality']:.4f}", ">"),
    ("peak MiB", lambda r: _peak(r), ">"),
    ("mJ/call", lambda r: f"{r['energy_j'] * 1e3:.3f}", ">"),
    ("energy", lambda r: r["energy_source"], "<"),
)


def _peak(r: dict) -> str:
    # PyTorch and ONNX Runtime allocate outside NumPy (untraced); when their memory was
    # already resident, the high-water mark does not move either: unknown, not zero.
    if r["kind"] == "peer" and r["name"] != "numpy-f32" and not r["rss_peak_bytes"]:
        return "n/a"
    return f"{r['peak_bytes'] / 2**20:.2f}"


def header_text(head: dict) -> str:
    chosen = ", ".join(f"{op} {name}" for op, name in head["chosen"].items())
    lines = [
        f"fastattn {head['fastattn']} bench (numpy {head['numpy']}, Python {head['python']})",
        f"CPU      {head['cpu']} ({head['machine']}); features: "
        f"{', '.join(head['features']) or 'none beyond scalar'}"
        + (f"; FASTATTN_ISA cap {head['isa_cap']}" if head["isa_cap"] else ""),
        f"kernels  {chosen} (dispatch's choice; scalar and other variants also timed)",
        f"threads  {head['threads']} for every implementation (BLAS, torch and ONNX Runtime too)",
        f"timing   interleaved: the rows of one shape take turns, {head['rounds']} rounds of "
        f"about {head['budget_s'] / head['rounds'] * 1e3:.0f} ms per row (order reversed "
        "every other round)",
        "         ms: median of all calls; speed-up: median over the rounds of the "
        "baseline's round median / the row's",
        f"energy   {head['energy']}",
    ]
    for why in head["energy_why_modelled"]:
        lines.append(f"         no sensor: {why}")
    if head.get("not_benchmarked"):
        lines.append(f"not run  {', '.join(head['not_benchmarked'])}: no candidates registered "
                     "(fastattn.candidates.register)")
    if head["peers_missing"]:
        lines.append(f"peers    not installed: {', '.join(head['peers_missing'])} "
                     "(pip install 'fastattn[bench]')")
    return "\n".join(lines)


def add_speedups(rows: list, baseline: str) -> list:
    """Sets ``speedup`` and ``baseline`` on every row; returns the shapes that have no
    baseline row. The speed-up is the median over the timing rounds of the baseline's
    round median over the row's (rows of one shape and thread count are timed in the same
    rounds, `measure.interleave`), so a round slowed by other work cancels out."""
    base = {(r["shape"], r["threads"]): r["round_medians_s"] for r in rows
            if r["name"] == baseline}
    missing = []
    for r in rows:
        ref = base.get((r["shape"], r["threads"]))
        r["baseline"] = baseline
        r["speedup"] = None
        if ref is None:
            if r["shape"] not in missing:
                missing.append(r["shape"])
        elif len(ref) != len(r["round_medians_s"]):
            raise ValueError(f"{r['name']} at {r['shape']} was not timed in the baseline's "
                             "rounds")
        else:
            r["speedup"] = statistics.median(b / t for b, t in zip(ref, r["round_medians_s"]))
    return missing


def sorted_rows(rows: list, baseline: str) -> list:
    """By shape (length, numerically; decode shapes last), the baseline first, then
    fastest first."""
    return sorted(rows, key=lambda r: (r["length"] == 1, r["length"], r["key_length"],
                                       r["shape"], r["name"] != baseline, r["median_s"]))


def _cells(rows: list, baseline: str) -> tuple:
    titles = [c[0] for c in COLUMNS]
    body = [[c[1](r) for c in COLUMNS] for r in sorted_rows(rows, baseline)]
    return titles, body


def table_text(rows: list, baseline: str) -> str:
    titles, body = _cells(rows, baseline)
    widths = [max(len(t), *(len(b[i]) for b in body)) if body else len(t)
              for i, t in enumerate(titles)]
    aligns = [c[2] for c in COLUMNS]

    def line(cells):
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths)).rstrip()

    out, last_shape = [line(titles), line("-" * w for w in widths)], None
    for cells in body:
        if last_shape is not None and cells[0] != last_shape:
            out.append("")
        last_shape = cells[0]
        out.append(line(cells))
    return "\n".join(out)


def markdown(head: dict, rows: list, baseline: str) -> str:
    titles, body = _cells(rows, baseline)
    lines = ["# fastattn benchmark", "", "```", header_text(head), "```", "",
             "| " + " | ".join(titles) + " |",
             "|" + "|".join("---:" if c[2] == ">" else "---" for c in COLUMNS) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    lines += ["", f"Speed-up: {baseline}'s median over the row's, same shape and threads, "
              "measured in this run, interleaved: the rows of one shape take turns in "
              f"{head['rounds']} rounds and the speed-up is the median of the per-round "
              "ratios. Quality: 1 - ||out - exact|| / ||exact|| on structured "
              "inputs (fastattn.candidates.structured_inputs). Peak MiB: the larger of the "
              "NumPy buffers traced during one call and the rise of the resident high-water "
              "mark. GOP/s: 2 per multiply-accumulate of the op's cost model "
              "(fastattn.cost)."]
    return "\n".join(lines) + "\n"


def write(out_dir: Path, head: dict, rows: list, baseline: str) -> list:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "bench.json", out_dir / "bench.md"]
    paths[0].write_text(json.dumps(dict(header=head, baseline=baseline,
                                        rows=sorted_rows(rows, baseline)), indent=1))
    paths[1].write_text(markdown(head, rows, baseline))
    if find_spec("matplotlib") is not None:
        from fastattn.benchmarks import plots

        paths += plots.write(out_dir, head, rows)
    return paths
