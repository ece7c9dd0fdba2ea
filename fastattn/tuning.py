"""``fastattn.tune``: pick, on this device, the fastest (or least energy-hungry) way to
compute attention of one shape that stays above a quality floor."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fastattn import candidates, energy, profiling

OBJECTIVES = ("latency", "energy")
_SLOWER = 3.0  # a variant whose first call is this much slower than the best so far is not timed


def cache_dir() -> Path:
    """``FASTATTN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fastattn``, else ``~/.cache/fastattn``."""
    env = os.environ.get("FASTATTN_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastattn"


def cpu_key() -> str:
    """This CPU and build as a short file name: CPU model, features, ISA cap, version."""
    import fastattn

    info = fastattn.info()
    ident = json.dumps([info["cpu"], platform.machine(), info["cpu_features"], info["isa_cap"],
                        fastattn.__version__], sort_keys=True)
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Plan:
    """A tuned way to compute attention: call it as ``plan(q, k, v)``.

    ``function`` is the public fastattn function (e.g. ``"local_attention"``), called
    with ``kwargs`` plus ``variant`` and ``num_threads`` (a candidate that prepares state,
    such as an int8 `KVCache`, is bound again from ``op`` and ``name``). ``table`` lists
    every candidate weighed (one dict per setting and variant: quality, median seconds or
    None when not timed, energy, and why it was or was not chosen). ``cached`` says whether the plan
    came from the on-disk cache.
    """

    function: str
    op: str
    kwargs: dict
    variant: str
    num_threads: int
    name: str
    quality: float
    median_s: float
    energy_j: float
    energy_source: str
    objective: str
    shape: str
    table: tuple = field(default=(), repr=False)
    cached: bool = False

    @property
    def precision(self) -> str:
        """``"fp32"`` or ``"int8"``: the precision the plan computes in."""
        return self.kwargs.get("precision", "fp32")

    @property
    def causal(self) -> bool:
        """Whether the plan was tuned (and computes) with causal masking."""
        return bool(self.kwargs.get("causal", False))

    def check(self, q, k, v) -> None:
        """Raises ValueError unless q, k, v have the shapes the plan was tuned for."""
        try:
            got = candidates.AttentionShape.of((q, k, v), causal=self.causal).label
        except ValueError as exc:
            raise ValueError(f"the plan was tuned for {self.shape}: {exc}") from None
        if got != self.shape:
            raise ValueError(f"the plan was tuned for {self.shape}, but q, k, v are {got}: "
                             "tune again for this shape (fastattn.tune)")

    def __call__(self, q, k, v):
        import fastattn

        self.check(q, k, v)
        fn = getattr(fastattn, self.function, None) if self.function else None
        if fn is not None:
            return fn(q, k, v, variant=self.variant, num_threads=self.num_threads, **self.kwargs)
        # a candidate that prepares state (a filled KV cache): bind it again for these arrays
        shape = candidates.AttentionShape.of((q, k, v), causal=self.kwargs.get("causal", False))
        for cand in candidates.candidates(shape, sweep=True, ops=[self.op]):
            if cand.name == self.name:
                return cand.bind(q, k, v, variant=self.variant, num_threads=self.num_threads)()
        raise ValueError(f"plan {self.name!r} ({self.op}) has no candidate for {shape.label}")

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["table"] = list(self.table)
        d.pop("cached")
        return d

    def table_text(self) -> str:
        lines = [f"{'candidate':<30} {'kernel':<14} {'quality':>8} {'ms':>9} {'mJ':>8}  verdict"]
        for r in self.table:
            ms = "" if r["median_s"] is None else f"{r['median_s'] * 1e3:.3f}"
            lines.append(f"{r['name']:<30} {r['variant']:<14} {r['quality']:>8.4f} {ms:>9} "
                         f"{r['energy_j'] * 1e3:>8.3f}  {r['verdict']}")
        return "\n".join(lines)


def _digest(arrays) -> str:
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _energy(call, cost, budget_s: float) -> energy.Energy:
    meter = energy.default_meter()
    if meter.sensor is not None:
        return meter.measure(call, min_seconds=max(0.2, budget_s))
    model = energy.EnergyModel()
    return energy.Energy(model.joules(cost), "modelled", model.label)


def weigh(shape, q, k, v, *, quality: float, objective: str, num_threads: int,
          budget_s: float, ops=None) -> list:
    """Every candidate setting and variant with its quality and, when it meets the
    floor and is not hopelessly slow, its median time and energy."""
    import fastattn

    exact = fastattn.attention(q, k, v, causal=shape.causal, num_threads=num_threads)
    rows, best = [], None
    for cand in candidates.candidates(shape, sweep=True, ops=ops):
        for variant in candidates.runnable_variants(cand.op):
            call = cand.bind(q, k, v, variant=variant, num_threads=num_threads)
            t0 = time.perf_counter()
            got = candidates.quality(call(), exact)  # the first call is also timed
            first = time.perf_counter() - t0
            cost = candidates.Candidate.cost_of(call)
            # a candidate with a binder is rebuilt from op and name, not called by function
            row = dict(name=cand.name, op=cand.op,
                       function="" if cand.binder else cand.fn.__name__,
                       kwargs=cand.kwargs, variant=variant, quality=got, median_s=None,
                       first_call_s=first, energy_j=energy.EnergyModel().joules(cost),
                       energy_source="modelled", verdict="")
            if got < quality:
                row["verdict"] = f"below the quality floor {quality}"
            elif best is not None and first > _SLOWER * best:
                row["verdict"] = f"not timed: first call over {_SLOWER:g}x the best median"
            else:
                times = profiling.time_calls(call, budget_s=budget_s, min_calls=3, warmup=0)
                row["median_s"] = statistics.median(times)
                e = _energy(call, cost, budget_s)
                row.update(energy_j=e.joules, energy_source=e.label)
                best = row["median_s"] if best is None else min(best, row["median_s"])
            rows.append(row)
    return rows


def _pick(rows: list, objective: str) -> dict:
    timed = [r for r in rows if r["median_s"] is not None]
    if not timed:
        raise ValueError("no candidate meets the quality floor:\n" + "\n".join(
            f"  {r['name']} [{r['variant']}]: quality {r['quality']:.4f}" for r in rows))
    if objective == "latency":
        return min(timed, key=lambda r: r["median_s"])
    # modelled energy prices the work, not the kernel: variants tie, latency decides
    return min(timed, key=lambda r: (round(r["energy_j"], 12), r["median_s"]))


def tune(shape: tuple | candidates.AttentionShape | None, *, quality: float = 0.99,
         objective: str = "latency", sample: tuple | None = None, causal: bool = False,
         num_threads: int | None = None, budget_s: float = 0.2, cache: bool = True,
         refresh: bool = False, ops: list | None = None) -> Plan:
    """Times every way fastattn can compute attention of ``shape`` (dense float32 and
    int8, sliding windows, routed densities, and every op that registers candidates in
    `fastattn.candidates`), each with every kernel variant this CPU runs, keeps those whose
    quality (``1 - ||out - exact|| / ||exact||`` against exact attention) is at least
    ``quality``, and returns the best by ``objective`` as a reusable `Plan`.

    Parameters
    ----------
    shape : tuple or AttentionShape or None
        ``(batch, heads, L, D)`` of q (self-attention), or an `AttentionShape`; None
        with ``sample``.
    quality : float
        The floor, in (0, 1).
    objective : {"latency", "energy"}
        Energy is measured where a sensor is readable, else modelled (`fastattn.energy`).
    sample : (q, k, v), optional
        Data to measure quality on (its shape then defines ``shape``); default: synthetic
        inputs with local structure and long-range recalls (`candidates.structured_inputs`).
    causal, num_threads, budget_s
        Causal masking; threads for every call; seconds of timed calls per candidate.
    cache, refresh
        Plans are cached per CPU under `cache_dir` (keyed by shape, floor, objective,
        threads and the sample's digest); ``refresh=True`` tunes again.
    ops : list of str, optional
        Restrict to these ops of `fastattn._dispatch.OPS`.

    Examples
    --------
    >>> import numpy as np, fastattn
    >>> plan = fastattn.tune((1, 2, 256, 32), quality=0.9, budget_s=0.01, cache=False)
    >>> plan.quality >= 0.9, plan.objective
    (True, 'latency')
    >>> x = np.ones((1, 2, 256, 32), dtype=np.float32)
    >>> plan(x, x, x).shape
    (1, 2, 256, 32)
    """
    from fastattn import _dispatch

    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if isinstance(quality, bool) or not isinstance(quality, (int, float)) or \
            not 0.0 < quality < 1.0:
        raise ValueError(f"quality must be a number in (0, 1), got {quality!r}")
    threads = _dispatch.resolve_threads(num_threads)
    if sample is not None:
        q, k, v = (np.asarray(x, dtype=np.float32) for x in sample)
        shape = candidates.AttentionShape.of((q, k, v), causal=causal)
        digest = _digest((q, k, v))
    else:
        shape = candidates.AttentionShape.of(shape, causal=causal)
        q, k, v = candidates.structured_inputs(shape)
        digest = "structured"
    key = json.dumps([shape.label, quality, objective, threads, digest, ops, budget_s])
    path = cache_dir() / f"tune-{cpu_key()}.json"
    if cache and not refresh:
        entry = _load(path).get(key)
        if entry is not None:
            return Plan(**{**entry, "table": tuple(entry["table"]), "cached": True})
    rows = weigh(shape, q, k, v, quality=quality, objective=objective, num_threads=threads,
                 budget_s=budget_s, ops=ops)
    best = _pick(rows, objective)
    best["verdict"] = f"chosen (best {objective})"
    plan = Plan(best["function"], best["op"], best["kwargs"], best["variant"], threads,
                best["name"],
                best["quality"], best["median_s"], best["energy_j"], best["energy_source"],
                objective, shape.label, tuple(rows))
    if cache:
        entries = _load(path)
        entries[key] = plan.as_dict()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=1))
        tmp.replace(path)
    return plan


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
