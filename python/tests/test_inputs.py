"""Bad input: a ValueError or TypeError in the command line's words, never a crash."""

import pytest

import piest


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(trials=1.5), ValueError, "invalid trials 1.5: must be a whole number"),
        (dict(trials=-1), ValueError, "invalid trials -1: must be positive"),
        (dict(trials=0), ValueError, "must be at least 1"),
        (dict(trials="1e"), ValueError, "not a number: expected a positive whole number"),
        (dict(trials=float("inf")), ValueError, "not a finite number"),
        (dict(trials=2**64), ValueError, "too large"),
        (dict(trials=True), TypeError, "trials must be an int, a float or a str, not bool"),
        (dict(trials=[1]), TypeError, "not list"),
        (dict(workers=0), ValueError, "worker counts must be at least 1, not '0'"),
        (dict(workers=5000), ValueError, "at most 1024 workers"),
        (dict(workers=2.0), TypeError, "workers must be an int"),
        (dict(seed="x"), ValueError, "invalid seed 'x': must be a whole number from 0 to"),
        (dict(seed=-1), ValueError, "invalid seed -1"),
        (dict(seed=2**64), ValueError, "invalid seed"),
        (dict(seed=1.0), TypeError, "seed must be an int or a str"),
        (dict(chunk_size=0), ValueError, "invalid chunk_size 0: must be at least 1"),
        (dict(chunk_size=2**64), ValueError, "invalid chunk_size"),
        (dict(chunk_size=0.5), ValueError, "must be a whole number"),
        (dict(method="stratified-nope"), ValueError, "invalid method 'stratified-nope': expected one of plain"),
        (dict(target_error=0), ValueError, "invalid target_error 0: must be positive"),
        (dict(target_error=float("nan")), ValueError, "not a number"),
        (dict(max_time=-1), ValueError, "invalid max_time -1: must be positive"),
        (dict(max_time="soon"), ValueError, "not a duration: expected a positive duration"),
        (dict(progress=3), TypeError, "progress must be a bool or a callable"),
    ],
)
def test_bad_estimate_arguments(kwargs, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(".", r"\.")):
        piest.estimate(**{"trials": 1000, "cache": False, **kwargs})


def test_the_command_lines_forms_are_accepted():
    est = piest.estimate("1_000_000", workers=1, seed="0", chunk_size="2.5e5", cache=False, max_time="1h 30m")
    same = piest.estimate(10**6, workers=1, seed=0, chunk_size=250_000, cache=False)
    assert (est.trials, est.chunk_size, est.inside) == (1_000_000, 250_000, same.inside)
    assert piest.estimate(1e6, method="PLAIN", cache=False).inside == 785100


@pytest.mark.parametrize("shard", [(4, 4), (0, 0), "3", (1, 2, 3), "5/4"])
def test_bad_shards(shard):
    with pytest.raises((ValueError, TypeError), match="shard"):
        piest.count(1e6, shard=shard)


def test_bad_parts():
    with pytest.raises(ValueError, match="no parts"):
        piest.merge([])
    with pytest.raises(ValueError, match="part #1"):
        piest.merge(["{}"])
    with pytest.raises(TypeError):
        piest.merge([3])  # type: ignore[list-item]


def test_a_cache_dir_with_an_unknown_home_is_refused(monkeypatch):
    monkeypatch.delenv("HOME", raising=False)
    import os

    if os.path.expanduser("~") != "~":
        # The OS still knows the user's home (its account database): nothing to refuse.
        assert piest.estimate(1000, cache_dir="~/x-piest-test", cache=False).cache is None
        return
    with pytest.raises(ValueError, match="cannot expand '~' in cache_dir"):
        piest.estimate(1000, cache_dir="~/x")
