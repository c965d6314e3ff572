# The native module: called by the piest package, which turns its JSON into dataclasses.
from os import PathLike
from typing import Callable, List, Optional, Sequence, Tuple, Union

__all__ = ["estimate", "count", "merge", "scale", "darts", "ALGORITHM", "METHODS", "DEFAULT_CHUNK_SIZE", "__version__"]

__version__: str
ALGORITHM: str
METHODS: List[str]
DEFAULT_CHUNK_SIZE: int

_Count = Union[int, float, str]
_Seed = Union[int, str]
_Shard = Union[Tuple[int, int], str]

def estimate(
    trials: Optional[_Count],
    workers: Optional[int],
    seed: _Seed,
    chunk_size: Optional[_Count],
    method: str,
    cache_dir: Optional[Union[str, PathLike[str]]],
    cache: bool,
    refresh: bool,
    target_error: Optional[float],
    max_time: Optional[Union[float, str]],
    progress: Optional[Callable[[int, Optional[int]], object]],
    shard: Optional[_Shard],
) -> Tuple[str, List[str]]: ...
def count(trials: _Count, seed: _Seed, shard: Optional[_Shard], workers: int) -> int: ...
def merge(parts: Sequence[str], allow_partial: bool) -> str: ...
def scale(
    trials: Optional[_Count],
    workers: Optional[Sequence[int]],
    seed: _Seed,
    chunk_size: Optional[_Count],
    method: str,
    runs: int,
    warmup: int,
) -> str: ...
def darts(
    n: _Count, seed: _Seed, chunk_size: Optional[_Count]
) -> Tuple[int, int, List[float], List[float], List[bool]]: ...
