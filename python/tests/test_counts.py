"""Counts: the same as the command line's for the same seed, whatever the workers, shards or
cache; the cache is shared with the command line."""

import json
import subprocess

import pytest

import piest


def cli_json(cli, *args):
    out = subprocess.run([cli, "--json", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_the_documented_count():
    assert piest.estimate(1e6, workers=2).inside == 785100


@pytest.mark.parametrize("seed", [0, 1, 42, 2**64 - 1])
def test_counts_equal_the_command_lines_whatever_the_workers(cli, seed):
    want = cli_json(cli, "-n", "3e6", "--chunk-size", "250000", "--seed", str(seed), "--no-cache")
    for workers in (1, 2, 3):
        got = piest.estimate(3e6, workers=workers, seed=seed, chunk_size=250_000, cache=False)
        assert (got.inside, got.trials, got.chunks) == (want["inside"], want["trials"], want["chunks"])
        assert got.pi == want["pi"] and got.ci95 == tuple(want["ci95"])


def test_shards_of_count_sum_to_the_estimate():
    whole = piest.estimate(1e7, workers=2, seed=7, cache=False).inside
    parts = [piest.count(1e7, seed=7, shard=(k, 4)) for k in range(4)]
    assert sum(parts) == whole
    assert piest.count(1e7, seed=7, workers=3) == whole
    assert piest.count("1e7", seed="7", shard="1/4") == parts[1]


def test_joblib_threads_calling_count_sum_to_the_estimate():
    joblib = pytest.importorskip("joblib")
    whole = piest.estimate(1e7, seed=3, cache=False).inside
    parts = joblib.Parallel(n_jobs=2, prefer="threads")(
        joblib.delayed(piest.count)(1e7, seed=3, shard=(k, 4)) for k in range(4)
    )
    assert sum(parts) == whole


def test_parts_merge_to_the_estimate_here_and_in_the_command_line(cli, tmp_path):
    whole = piest.estimate(2e7, seed=5, cache=False)
    parts = [piest.part(2e7, shard=(k, 3), seed=5, cache=False) for k in range(3)]
    merged = piest.merge(parts)
    assert merged.complete and (merged.inside, merged.trials) == (whole.inside, whole.trials)
    files = []
    for i, p in enumerate(parts):
        files.append(tmp_path / f"part{i}.json")
        files[-1].write_text(p.to_json())
    out = subprocess.run([cli, "merge", "--json", *map(str, files)], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout)["inside"] == whole.inside
    partial = piest.merge(parts[:2], allow_partial=True)
    assert not partial.complete and partial.missing_shards == (2,)
    with pytest.raises(ValueError, match="missing|shard"):
        piest.merge(parts[:2])


def test_a_command_line_run_then_a_python_run_share_the_cache(cli, tmp_path):
    cache = tmp_path / "cache"
    first = cli_json(cli, "-n", "5e7", "-w", "2", "--seed", "11", "--cache-dir", str(cache))
    assert first["cached_chunks"] == 0
    again = piest.estimate(5e7, workers=2, seed=11, cache_dir=cache)
    assert again.inside == first["inside"]
    assert again.cached_chunks == again.chunks
    assert again.cache is not None and again.cache.misses == 0 and again.cache.dir == str(cache)


def test_the_default_cache_is_piest_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PIEST_CACHE_DIR", str(tmp_path / "env-cache"))
    first = piest.estimate(1e7, seed=2)
    assert first.cache is not None and first.cache.dir == str(tmp_path / "env-cache")
    assert piest.estimate(1e7, seed=2).cached_chunks == first.chunks
    assert piest.estimate(1e7, seed=2, refresh=True).cached_chunks == 0
    assert piest.estimate(1e7, seed=2, cache=False).cache is None


def test_a_random_seed_is_reported_and_reproduces_the_count():
    first = piest.estimate(1e6, seed="random", cache=False)
    assert piest.estimate(1e6, seed=first.seed, cache=False).inside == first.inside


def test_a_target_that_cannot_be_met_is_reported_not_raised():
    est = piest.estimate(1e6, target_error=1e-5)
    assert est.stopped_by == "trials" and est.target_met is False
    assert est.target_error == 1e-5
    met = piest.estimate(target_error=1e-3, cache=False)
    assert met.stopped_by == "target_error" and met.target_met is True
    timed = piest.estimate(max_time="50ms", cache=False)
    assert timed.stopped_by == "max_time" and timed.max_time_s == 0.05


def test_darts_are_the_estimates_first_trials():
    d = piest.darts(2000, seed=4)
    assert len(d.x) == len(d.y) == len(d.inside) == 2000
    assert sum(d.inside) == d.inside_count == piest.count(2000, seed=4)
    assert all(0 <= v < 1 for v in d.x + d.y)


def test_scale_rows_name_each_worker_count():
    s = piest.scale(4e6, workers=[1, 2], runs=1, warmup=0)
    assert [row["workers"] for row in s.rows] == [1, 2]
    assert s.inside == piest.count(4e6)
