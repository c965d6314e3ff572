"""Sampling methods: the list is the library's, and a stratified estimate is the command line's
for the same options, field for field."""

import json
import re
import subprocess

import pytest

import piest

# The fields that depend only on (trials, seed, chunk size, method), not on the run: equal.
SAME = ("pi", "trials", "requested_trials", "inside", "seed", "chunks", "chunk_size", "std_error",
        "ci95", "ci_method", "ci95_half_width", "algorithm", "method", "stopped_by", "target_met")


def cli_json(cli, *args):
    out = subprocess.run([cli, "--json", "--no-cache", *args], capture_output=True, text=True)
    # 5: a target not met before the cap, still reported (Python reports it in `target_met`).
    assert out.returncode in (0, 5), out.stderr
    return json.loads(out.stdout)


def same_fields(est, want):
    for field in SAME:
        got = getattr(est, field)
        expected = want.get(field)
        if isinstance(expected, list):
            expected = tuple(expected)
        assert got == expected, (field, got, expected)


def test_the_methods_are_the_librarys_in_its_order():
    assert piest.METHODS == ("plain", "stratified")
    assert piest.estimate(1e6, cache=False).method == "plain"


@pytest.mark.parametrize("seed", [0, 1, 42, 2**64 - 1])
def test_a_stratified_estimate_is_the_command_lines(cli, seed):
    # 1e6 is not whole chunks: both round it up the same way and say what was asked.
    want = cli_json(cli, "--method", "stratified", "-n", "1e6", "--seed", str(seed))
    for workers in (1, 2):
        est = piest.estimate(1e6, method="stratified", seed=seed, workers=workers, cache=False)
        same_fields(est, want)
    assert est.requested_trials == 1_000_000 and est.trials > est.requested_trials
    assert est.ci_method == "student-t"


@pytest.mark.parametrize("args, kwargs", [
    (["-n", "3e6", "--chunk-size", "65536", "--seed", "7"], dict(trials=3e6, chunk_size=4**8, seed=7)),
    (["-n", "1024", "--chunk-size", "1024"], dict(trials=1024, chunk_size=1024)),
    (["--target-error", "1e-3", "--seed", "3"], dict(target_error=1e-3, seed=3)),
    # A cap before the target: stopped by the trials, the last whole chunk within the cap.
    (["--target-error", "1e-3", "-n", "1e5", "--seed", "3"], dict(target_error=1e-3, trials=1e5, seed=3)),
])
def test_stratified_options_mean_what_they_mean_on_the_command_line(cli, args, kwargs):
    want = cli_json(cli, "--method", "stratified", *args)
    same_fields(piest.estimate(method="stratified", cache=False, **kwargs), want)


def test_a_stratified_estimate_differs_from_a_plain_one_and_prints_its_method():
    plain = piest.estimate(4**10, chunk_size=4**10, seed=5, cache=False)
    strat = piest.estimate(4**10, chunk_size=4**10, seed=5, method="stratified", cache=False)
    assert strat.method == "stratified" and strat.algorithm != plain.algorithm
    assert strat.ci_method == "hoeffding"  # one chunk: no spread to measure
    assert repr(strat).splitlines()[2].startswith("stratified · whole chunks of 1,048,576 trials")
    assert len(repr(plain).splitlines()) == 2


def test_a_stratified_sweep_counts_what_the_estimate_counts():
    s = piest.scale(2e6, workers=[1, 2], method="stratified", runs=1, warmup=0)
    est = piest.estimate(2e6, method="stratified", cache=False)
    assert (s.inside, s.trials, s.chunk_size) == (est.inside, est.trials, est.chunk_size)
    assert (s.algorithm, s.method) == (est.algorithm, "stratified")


def test_a_stratified_run_reads_and_writes_the_cache_like_the_command_line(tmp_path, cli):
    # The cache keeps each span's squared counts too: a warm run reads every chunk and reports
    # the same interval; a command-line run on the same directory reads the binding's chunks.
    first = piest.estimate(1e6, method="stratified", seed=2, cache_dir=tmp_path)
    again = piest.estimate(1e6, method="stratified", seed=2, cache_dir=tmp_path)
    assert first.cached_chunks == 0 and first.cache.misses == first.chunks
    assert again.cached_chunks == again.chunks and again.cache.misses == 0
    for field in ("inside", "trials", "std_error", "ci95_half_width", "ci_method"):
        assert getattr(again, field) == getattr(first, field), field
    out = subprocess.run(
        [cli, "--method", "stratified", "-n", "1e6", "--seed", "2", "--cache-dir", tmp_path,
         "--json"],
        capture_output=True, text=True, check=True,
    )
    shell = json.loads(out.stdout)
    assert (shell["inside"], shell["cached_chunks"]) == (first.inside, first.chunks)


def refusal(cli, args):
    out = subprocess.run([cli, "--no-cache", *args], capture_output=True, text=True)
    assert out.returncode == 2, out
    return out.stderr.strip().splitlines()[-1]


def test_a_chunk_size_a_stratified_run_cannot_have_is_refused_in_the_command_lines_words(cli):
    with pytest.raises(ValueError) as raised:
        piest.estimate(1e6, method="stratified", chunk_size=1000, cache=False)
    python = str(raised.value)
    assert python.startswith("invalid chunk_size 1000: ")
    command_line = refusal(cli, ["--method", "stratified", "-n", "1e6", "--chunk-size", "1000"])
    assert command_line.endswith(": " + python[len("invalid chunk_size 1000: "):])
    assert re.search(r"the nearest are 4\^4 = 256 and 4\^5 = 1,024$", python)


@pytest.mark.parametrize("seed", [0, 9])
def test_parts_of_a_stratified_run_merge_to_the_whole_here_and_in_the_command_line(cli, tmp_path, seed):
    # 1e6 rounds up to 62 chunks of 4^7; three shards, one run's interval when merged.
    whole = piest.estimate(1e6, method="stratified", seed=seed, cache=False)
    parts = [piest.part(1e6, shard=(k, 3), method="stratified", seed=seed, cache=False) for k in range(3)]
    assert all(p.method == "stratified" and p.inside_squares is not None for p in parts)
    merged = piest.merge(parts)
    assert merged.complete and merged.method == "stratified"
    for field in ("inside", "trials", "requested_trials", "chunks", "pi", "std_error", "ci95", "ci_method"):
        assert getattr(merged, field) == getattr(whole, field), field
    files = []
    for k, p in enumerate(parts):
        files.append(tmp_path / f"part{k}.json")
        files[-1].write_text(p.to_json())
        want = cli_json(cli, "--method", "stratified", "-n", "1e6", "--seed", str(seed), "--shard", f"{k}/3")
        assert (p.inside, p.inside_squares, p.chunk_ranges) == (want["inside"], want["inside_squares"], tuple(map(tuple, want["chunk_ranges"])))
    out = subprocess.run([cli, "merge", "--json", *map(str, files)], check=True, capture_output=True, text=True)
    by_program = json.loads(out.stdout)
    assert (by_program["inside"], by_program["ci_method"]) == (whole.inside, whole.ci_method)
    assert by_program["std_error"] == whole.std_error


def test_parts_of_different_methods_do_not_merge():
    plain = piest.part(4**10, chunk_size=4**8, shard=(0, 2), cache=False)
    strat = piest.part(4**10, chunk_size=4**8, shard=(1, 2), method="stratified", cache=False)
    with pytest.raises(ValueError, match="method"):
        piest.merge([plain, strat])


def test_a_part_writes_every_field_of_the_command_lines_part(cli, tmp_path):
    # `to_json` is the part file `piest merge` reads: the same fields, so nothing is lost.
    want = cli_json(cli, "-n", "1e6", "--chunk-size", "1e5", "--shard", "1/3", "--seed", "4")
    got = json.loads(piest.part(1e6, chunk_size=1e5, shard=(1, 3), seed=4, cache=False).to_json())
    assert set(got) == set(want)
    args = ["--method", "stratified", "-n", "1e6", "--shard", "1/3", "--seed", "4"]
    want_stratified = cli_json(cli, *args)
    got_stratified = json.loads(piest.part(1e6, shard=(1, 3), seed=4, method="stratified", cache=False).to_json())
    assert set(got_stratified) == set(want_stratified)
    assert got_stratified["inside_squares"] == want_stratified["inside_squares"]
    for field in ("inside", "trials", "chunk_ranges", "total_trials", "method", "algorithm", "has_estimate"):
        assert got[field] == want[field], field


def test_an_empty_part_has_no_estimate_and_still_merges(cli):
    parts = [piest.part(2e5, chunk_size=1e5, shard=(k, 3), cache=False) for k in range(3)]
    empty = [p for p in parts if not p.has_estimate]
    assert len(empty) == 1 and empty[0].trials == 0  # two chunks in three shards
    assert empty[0].pi is None and "no estimate" in repr(empty[0])
    assert piest.merge(parts).inside == piest.estimate(2e5, chunk_size=1e5, cache=False).inside
