"""piest: fast, reproducible, statistically honest Monte Carlo estimation of π.

The work runs in Rust with the GIL released, so Python threads scale; the same seed gives the
same count as the ``piest`` command line, whatever the workers, and both share one result cache
(``cache_dir``, else ``PIEST_CACHE_DIR``, else the platform's cache directory).

Ctrl-C raises ``KeyboardInterrupt`` within about 25 ms, after the chunks completed so far are
stored in the cache. Only the main thread sees Ctrl-C: a call made from another thread runs to
its end. No thread started by a call outlives it, so ``os.fork`` (``multiprocessing``'s fork
start method) is safe after a call.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union, cast

from . import _piest

__all__ = [
    "ALGORITHM",
    "METHODS",
    "CacheInfo",
    "ConvergencePoint",
    "Darts",
    "Estimate",
    "Merged",
    "Part",
    "Scale",
    "count",
    "darts",
    "estimate",
    "merge",
    "part",
    "scale",
]

__version__: str = _piest.__version__
ALGORITHM: str = _piest.ALGORITHM
#: The sampling methods, the default first: the library's list, the command line's ``--method``.
METHODS: Tuple[str, ...] = tuple(_piest.METHODS)

Count = Union[int, float, str]
Seed = Union[int, str]
Progress = Union[bool, Callable[[int, Optional[int]], object]]


def _from(cls: Any, data: Dict[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from a JSON object: its fields, lists as tuples
    (frozen), fields the reader does not know left out."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        if key in names:
            values[key] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def _rate(per_s: float) -> str:
    """A rate with three significant digits, as the command line shows it (``1.92e9``)."""
    mantissa, exponent = f"{per_s:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _reach(pi: float, low: float, high: float, d: int) -> str:
    below = f"{max(pi - low, 0.0):.{d}f}"
    above = f"{max(high - pi, 0.0):.{d}f}"
    return f"±{below}" if below == above else f"−{below}/+{above}"


def _human(r: Any) -> str:
    """The command line's report of an estimate: two lines, and a third for a stratified run."""
    if r.pi is None:
        return f"no estimate: no trials counted · seed {r.seed} · {r.elapsed_s:.3f} s"
    low, high = r.ci95
    half = (high - low) / 2
    d = 4 if (math.isnan(half) or half <= 0) else int(min(max(1 - math.floor(math.log10(half)), 4), 15))
    first = (
        f"pi ≈ {r.pi:.{d}f}   {_reach(r.pi, low, high, d)} (95%: {low:.{d}f} … {high:.{d}f})   "
        f"std error {r.std_error:.{d}f}   error vs π: {r.error:+.{d + 2}f}"
    )
    second = (
        f"{_plural(r.trials, 'trial')} · {_plural(r.chunks, 'chunk')} · "
        f"{_plural(r.workers, 'worker')} · seed {r.seed} · {r.elapsed_s:.3f} s"
    )
    if r.cached_chunks == r.chunks:
        second += " · all from cache"
    else:
        second += f" · {_rate(r.trials_per_s)} trials/s"
        if r.cached_chunks > 0:
            second += f" · {_plural(r.cached_chunks, 'chunk')} from cache"
    lines = [first, second]
    method = getattr(r, "method", "plain")
    if method != "plain":
        if r.ci_method == "student-t":
            interval = f"Student-t interval from the spread between {r.chunks:,} chunks"
        elif r.ci_method == "hoeffding":
            interval = "Hoeffding bound (one chunk, or no spread between chunks)"
        else:
            interval = f"{r.ci_method} interval"
        third = f"{method} · whole chunks of {r.chunk_size:,} trials · {interval}"
        if getattr(r, "requested_trials", None) is not None:
            third += f" · trials={r.requested_trials:,} rounded up to whole chunks"
        lines.append(third)
    return "\n".join(lines)


@dataclass(frozen=True)
class CacheInfo:
    """What the result cache did in a run (the ``cache`` object of the JSON)."""

    dir: str
    hits: int
    misses: int
    stored: int
    refresh: bool
    entries_written: int
    bytes_written: int
    warnings: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ConvergencePoint:
    """The estimate after the first ``trials`` trials of a run."""

    trials: int
    pi: float
    ci95: Tuple[float, float]


@dataclass(frozen=True, repr=False)
class Estimate:
    """An estimate of π: the fields of ``piest --json`` (see the README's JSON section)."""

    pi: float
    trials: int
    inside: int
    seed: int
    workers: int
    chunks: int
    chunk_size: int
    std_error: float
    ci95: Tuple[float, float]
    ci_method: str
    ci95_half_width: float
    error: float
    abs_error: float
    elapsed_s: float
    trials_per_s: float
    algorithm: str
    method: str
    kernel: str
    cached_chunks: int
    cache: Optional[CacheInfo]
    stopped_by: str
    target_error: Optional[float] = None
    target_met: Optional[bool] = None
    min_trials: Optional[int] = None
    max_time_s: Optional[float] = None
    convergence: Optional[Tuple[ConvergencePoint, ...]] = None
    requested_trials: Optional[int] = None

    @classmethod
    def _from_json(cls, data: Dict[str, Any]) -> "Estimate":
        data = dict(data)
        if data.get("cache") is not None:
            data["cache"] = _from(CacheInfo, data["cache"])
        if data.get("convergence") is not None:
            data["convergence"] = [
                ConvergencePoint(p["trials"], p["pi"], tuple(p["ci95"])) for p in data["convergence"]
            ]
        return cast(Estimate, _from(cls, data))

    def __repr__(self) -> str:
        return _human(self)


@dataclass(frozen=True, repr=False)
class Part:
    """One shard of an estimate (``piest --shard K/N --json``): merge parts with :func:`merge`.
    ``to_json()`` is the part file ``piest merge`` reads."""

    format: str
    format_version: int
    shard: Tuple[int, int]
    total_trials: int
    chunk_ranges: Tuple[Tuple[int, int], ...]
    computed_chunks: int
    computed_trials: int
    has_estimate: bool
    pi: Optional[float]
    trials: int
    inside: int
    seed: int
    workers: int
    chunks: int
    chunk_size: int
    std_error: Optional[float]
    ci95: Tuple[float, float]
    ci_method: str
    ci95_half_width: float
    error: Optional[float]
    abs_error: Optional[float]
    elapsed_s: float
    trials_per_s: float
    algorithm: str
    method: str
    kernel: str
    cached_chunks: int
    cache: Optional[CacheInfo]
    stopped_by: str
    target_error: Optional[float] = None
    target_met: Optional[bool] = None
    min_trials: Optional[int] = None
    max_time_s: Optional[float] = None
    requested_trials: Optional[int] = None
    #: A stratified part's ``Σc²`` over its chunks, as a decimal string (it may exceed 2**64).
    inside_squares: Optional[str] = None

    @classmethod
    def _from_json(cls, data: Dict[str, Any]) -> "Part":
        data = dict(data)
        data["shard"] = (data["shard"]["index"], data["shard"]["count"])
        data["chunk_ranges"] = [tuple(r) for r in data["chunk_ranges"]]
        if data.get("cache") is not None:
            data["cache"] = _from(CacheInfo, data["cache"])
        return cast(Part, _from(cls, data))

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["shard"] = {"index": self.shard[0], "count": self.shard[1]}
        # Written only when they apply, as the command line writes them.
        for optional in ("requested_trials", "inside_squares"):
            if data[optional] is None:
                del data[optional]
        return json.dumps(data)

    def __repr__(self) -> str:
        k, n = self.shard
        return f"{_human(self)}\npart {k}/{n} of {self.total_trials:,} trials"


@dataclass(frozen=True, repr=False)
class Merged:
    """Parts added up (``piest merge --json``): the estimate, and how complete it is."""

    complete: bool
    total_trials: int
    parts: int
    shard_count: Optional[int]
    missing_shards: Tuple[int, ...]
    missing_chunks: Tuple[Tuple[int, int], ...]
    compute_s: float
    has_estimate: bool
    pi: Optional[float]
    trials: int
    inside: int
    seed: int
    workers: int
    chunks: int
    chunk_size: int
    std_error: Optional[float]
    ci95: Tuple[float, float]
    ci_method: str
    ci95_half_width: float
    error: Optional[float]
    abs_error: Optional[float]
    elapsed_s: float
    trials_per_s: float
    algorithm: str
    method: str
    kernel: str
    cached_chunks: int
    cache: Optional[CacheInfo]
    stopped_by: str
    target_error: Optional[float] = None
    target_met: Optional[bool] = None
    min_trials: Optional[int] = None
    max_time_s: Optional[float] = None
    requested_trials: Optional[int] = None

    @classmethod
    def _from_json(cls, data: Dict[str, Any]) -> "Merged":
        data = dict(data)
        data["missing_chunks"] = [tuple(r) for r in data["missing_chunks"]]
        return cast(Merged, _from(cls, data))

    def __repr__(self) -> str:
        state = "complete" if self.complete else f"partial: {self.trials:,} of {self.total_trials:,} trials"
        return f"{_human(self)}\n{self.parts} parts merged ({state})"


@dataclass(frozen=True)
class Scale:
    """A worker-count sweep (``piest scale --json``): ``rows`` are dicts with ``workers``,
    ``median_s``, ``speedup``, ``efficiency`` and the rest of the JSON's row fields."""

    trials: int
    seed: int
    chunk_size: int
    chunks: int
    kernel: str
    algorithm: str
    inside: int
    data: Any

    @property
    def method(self) -> str:
        """The sampling method (``"plain"`` or ``"stratified"``)."""
        return cast(str, self.data.get("method", "plain"))

    @property
    def rows(self) -> Any:
        return self.data["rows"]


@dataclass(frozen=True)
class Darts:
    """The points of an estimate's first trials, for drawing: ``x``, ``y`` in [0, 1) and
    whether each is ``inside`` the quarter circle (the count's exact test)."""

    seed: int
    inside_count: int
    x: Tuple[float, ...]
    y: Tuple[float, ...]
    inside: Tuple[bool, ...]

    @property
    def pi(self) -> float:
        return 4 * self.inside_count / len(self.x)


def _progress(progress: Progress) -> Tuple[Optional[Callable[[int, Optional[int]], object]], Any]:
    """The callable the native module calls, and a bar to close afterwards (or ``None``)."""
    if progress is False or progress is None:
        return None, None
    if progress is True:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            warnings.warn("progress=True needs tqdm (pip install 'piest[progress]')", stacklevel=3)
            return None, None
        bar = tqdm(total=None, unit="trial", unit_scale=True)

        def update(done: int, total: Optional[int]) -> None:
            if total is not None and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        return update, bar
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be a bool or a callable (done, total), not {type(progress).__name__}")


def _warn(messages: Iterable[str]) -> None:
    for message in messages:
        warnings.warn(f"piest: {message}", RuntimeWarning, stacklevel=3)


def estimate(
    trials: Optional[Count] = None,
    *,
    workers: Optional[int] = None,
    seed: Seed = 0,
    chunk_size: Optional[Count] = None,
    method: str = "plain",
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    cache: bool = True,
    refresh: bool = False,
    target_error: Optional[float] = None,
    max_time: Optional[Union[float, str]] = None,
    progress: Progress = False,
) -> Estimate:
    """Estimates π, as ``piest`` does with the same options. ``trials=None`` means 1e8, or no
    cap with ``target_error`` or ``max_time``. A target not met is reported in ``stopped_by``
    and ``target_met``, not raised. ``method`` is one of :data:`METHODS`: ``"stratified"``
    throws one dart per cell of a grid, counts whole chunks of ``4**k`` trials (``trials`` is
    rounded up; ``requested_trials`` then says what was asked) and takes its interval from the
    spread between chunks (``ci_method``)."""
    call, bar = _progress(progress)
    try:
        text, messages = _piest.estimate(
            trials, workers, seed, chunk_size, method, cache_dir, cache, refresh,
            target_error, max_time, call, None,
        )
    finally:
        if bar is not None:
            bar.close()
    _warn(messages)
    return Estimate._from_json(json.loads(text))


def part(
    trials: Optional[Count] = None,
    *,
    shard: Union[Tuple[int, int], str],
    workers: Optional[int] = None,
    seed: Seed = 0,
    chunk_size: Optional[Count] = None,
    method: str = "plain",
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    cache: bool = True,
    refresh: bool = False,
    progress: Progress = False,
) -> Part:
    """Counts shard ``(k, n)`` of an estimate, as ``piest --shard k/n`` does, for either method:
    a stratified part also carries ``inside_squares``, so merged parts give the whole run's
    interval."""
    call, bar = _progress(progress)
    try:
        text, messages = _piest.estimate(
            trials, workers, seed, chunk_size, method, cache_dir, cache, refresh,
            None, None, call, shard,
        )
    finally:
        if bar is not None:
            bar.close()
    _warn(messages)
    return Part._from_json(json.loads(text))


def merge(parts: Sequence[Union[Part, str]], *, allow_partial: bool = False) -> Merged:
    """Adds up parts (``Part`` objects or part JSON text), as ``piest merge`` does."""
    texts = [p.to_json() if isinstance(p, Part) else p for p in parts]
    for p in texts:
        if not isinstance(p, str):
            raise TypeError(f"merge takes Part objects or part JSON text, not {type(p).__name__}")
    return Merged._from_json(json.loads(_piest.merge(texts, allow_partial)))


def count(trials: Count, *, seed: Seed = 0, shard: Optional[Union[Tuple[int, int], str]] = None, workers: int = 1) -> int:
    """The number of ``trials`` plain darts (or of shard ``(k, n)`` of them) inside the quarter
    circle: the tutorial's ``calc_point_inside_circle``, without the cache. Shards of one run sum
    to its ``estimate(...).inside``."""
    return _piest.count(trials, seed, shard, workers)


def scale(
    trials: Optional[Count] = None,
    *,
    workers: Optional[Sequence[int]] = None,
    seed: Seed = 0,
    chunk_size: Optional[Count] = None,
    method: str = "plain",
    runs: int = 5,
    warmup: int = 1,
) -> Scale:
    """Times the estimate at each worker count (default 1 to the cores), as ``piest scale``."""
    if workers is not None:
        workers = list(workers)
    data = json.loads(_piest.scale(trials, workers, seed, chunk_size, method, runs, warmup))
    return Scale(
        data["trials"], data["seed"], data["chunk_size"], data["chunks"], data["kernel"],
        data["algorithm"], data["inside"], data,
    )


def darts(n: Count, *, seed: Seed = 0, chunk_size: Optional[Count] = None) -> Darts:
    """The first ``n`` trials of an estimate as points: ``plt.scatter(d.x, d.y, c=d.inside)``."""
    s, inside, x, y, flags = _piest.darts(n, seed, chunk_size)
    return Darts(s, inside, tuple(x), tuple(y), tuple(flags))
