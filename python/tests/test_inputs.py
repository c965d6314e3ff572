"""Bad input: a ValueError in the command line's words, or a TypeError for a value of the wrong
type; never a crash. Both fronts validate with the library's functions, so every refusal here is
compared with the command line's for the same value."""

import os
import re
import subprocess

import pytest

import piest

# (keyword arguments, the command line's arguments for the same values). The Python message is
# `invalid <argument> <repr>: <why>`; the command line's `invalid value '<text>' for '<flag>':
# <why>`; the <why> must be the same.
REFUSED = [
    (dict(trials=1.5), ["-n", "1.5"]),
    (dict(trials=-1), ["-n", "-1"]),
    (dict(trials=0), ["-n", "0"]),
    (dict(trials=-0.0), ["-n", "-0.0"]),
    (dict(trials="1e"), ["-n", "1e"]),
    (dict(trials="1,000"), ["-n", "1,000"]),
    (dict(trials=float("inf")), ["-n", "inf"]),
    (dict(trials=float("nan")), ["-n", "nan"]),
    (dict(trials=1e30), ["-n", "1e+30"]),
    (dict(trials=2**64), ["-n", str(2**64)]),
    (dict(trials=-(10**5000)), ["-n", "-1e5000"]),
    (dict(workers=0), ["-w", "0"]),
    (dict(workers=-3), ["-w", "-3"]),
    (dict(workers=5000), ["-w", "5000"]),
    (dict(workers=10**5000), ["-w", "1e5000"]),
    (dict(seed="x"), ["--seed", "x"]),
    (dict(seed=-1), ["--seed", "-1"]),
    (dict(seed=2**64), ["--seed", str(2**64)]),
    (dict(seed="1.5"), ["--seed", "1.5"]),
    (dict(chunk_size=0), ["--chunk-size", "0"]),
    (dict(chunk_size=2**64), ["--chunk-size", str(2**64)]),
    (dict(chunk_size=0.5), ["--chunk-size", "0.5"]),
    (dict(chunk_size="1e400"), ["--chunk-size", "1e400"]),
    (dict(max_time=-1), ["--max-time", "-1"]),
    (dict(max_time=0), ["--max-time", "0"]),
    (dict(max_time="soon"), ["--max-time", "soon"]),
    (dict(max_time="5 parsecs"), ["--max-time", "5 parsecs"]),
    (dict(max_time=float("inf")), ["--max-time", "inf"]),
    (dict(max_time=1e30), ["--max-time", "1e+30"]),
    (dict(target_error=0), ["--target-error", "0"]),
    (dict(target_error=-1e-3), ["--target-error", "-0.001"]),
    (dict(target_error=float("nan")), ["--target-error", "nan"]),
    (dict(target_error=1e-12), ["--target-error", "1e-12"]),
    (dict(method="nope"), ["--method", "nope"]),
    (dict(method=""), ["--method", ""]),
]


def cli_refusal(cli, args):
    """The reason the command line gives for refusing `args`: the text after the flag."""
    out = subprocess.run([cli, "--no-cache", "--json", *args], capture_output=True, text=True)
    assert out.returncode == 2, (args, out.returncode, out.stderr)
    line = out.stderr.strip().splitlines()[-1]
    found = re.search(r"for '[^']*': (.*)$", line)
    assert found, line
    return found.group(1)


def python_refusal(kwargs):
    """The reason `estimate` gives for refusing `kwargs`: the text after the argument's repr."""
    with pytest.raises(ValueError) as raised:
        piest.estimate(**{"trials": 1000, "cache": False, **kwargs})
    message = str(raised.value)
    ((name, value),) = kwargs.items()
    try:
        shown = repr(value)
    except ValueError:  # an int too long for Python to write
        shown = "(an int too long to show)"
    prefix = f"invalid {name} {shown}: "
    assert message.startswith(prefix), message
    return message[len(prefix):]


@pytest.mark.parametrize("kwargs, args", REFUSED, ids=[" ".join(args) for _, args in REFUSED])
def test_refusals_are_worded_as_the_command_lines(cli, kwargs, args):
    python, command_line = python_refusal(kwargs), cli_refusal(cli, args)
    print(f"{' '.join(args)}: {python}")
    assert python == command_line


def test_the_documented_refusals_read_as_documented():
    # The words a user sees, spelled out once: the comparisons above keep the rest in step.
    with pytest.raises(ValueError, match=r"^invalid trials 1\.5: must be a whole number: expected a positive whole number"):
        piest.estimate(1.5)
    with pytest.raises(ValueError, match=r"^invalid workers 0: must be at least 1: expected a whole number from 1 to 1024$"):
        piest.estimate(1000, workers=0)
    with pytest.raises(ValueError, match=r"^invalid seed 'x': not a number: expected a whole number from 0 to 18446744073709551615 or 'random'$"):
        piest.estimate(1000, seed="x")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(trials=True), "trials must be an int, a float or a str, not bool"),
        (dict(trials=[1]), "trials must be an int, a float or a str, not list"),
        (dict(workers=2.0), "workers must be an int, not float"),
        (dict(workers="2"), "workers must be an int, not str"),
        (dict(seed=1.0), "seed must be an int or a str, not float"),
        (dict(seed=None), "seed must be an int or a str, not NoneType"),
        (dict(chunk_size=b"8"), "chunk_size must be an int, a float or a str, not bytes"),
        (dict(max_time=True), "max_time must be seconds or a duration str, not bool"),
        (dict(target_error="1e-3"), "target_error must be a float, not str"),
        (dict(method=1), "method must be a str, not int"),
        (dict(progress=3), "progress must be a bool or a callable"),
    ],
)
def test_values_of_the_wrong_type_are_type_errors(kwargs, words):
    with pytest.raises(TypeError, match=re.escape(words)):
        piest.estimate(**{"trials": 1000, "cache": False, **kwargs})


def test_methods_come_from_the_library():
    assert piest.METHODS[0] == "plain"
    assert "stratified" in piest.METHODS
    with pytest.raises(ValueError, match="expected " + ", ".join(piest.METHODS) + "$"):
        piest.estimate(1000, method="nope", cache=False)


def test_the_command_lines_forms_are_accepted():
    est = piest.estimate("1_000_000", workers=1, seed="0", chunk_size="2.5e5", cache=False, max_time="1h 30m")
    same = piest.estimate(10**6, workers=1, seed=0, chunk_size=250_000, cache=False)
    assert (est.trials, est.chunk_size, est.inside) == (1_000_000, 250_000, same.inside)
    assert piest.estimate(1e6, method="PLAIN", cache=False).inside == 785100
    assert piest.estimate(2.5e6, seed="1e3", cache=False).trials == 2_500_000
    assert piest.estimate(2.5e6, seed="1e3", cache=False).seed == 1000


@pytest.mark.parametrize("shard, args", [((4, 4), "4/4"), ((0, 0), "0/0"), ("5/4", "5/4"), ((-1, 4), "-1/4"), ("3", "3")])
def test_bad_shards_are_worded_as_the_command_lines(cli, shard, args):
    with pytest.raises(ValueError) as raised:
        piest.count(1e6, shard=shard)
    prefix = f"invalid shard {shard!r}: "
    assert str(raised.value).startswith(prefix)
    assert str(raised.value)[len(prefix):] == cli_refusal(cli, ["-n", "1e6", f"--shard={args}"])


@pytest.mark.parametrize("shard", [(1, 2, 3), (0.0, 2), [0, 2], 3])
def test_shards_of_the_wrong_shape_are_type_errors(shard):
    with pytest.raises(TypeError, match="shard must be a"):
        piest.count(1e6, shard=shard)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(runs=0), "invalid runs 0: must be at least 1: expected a whole number from 1 to 10000"),
        (dict(runs=10**6), "invalid runs 1000000: too large: the most is 10000"),
        (dict(warmup=-1), "invalid warmup -1: must be at least 0"),
        (dict(workers=[1, 0]), "invalid workers 0: must be at least 1"),
    ],
)
def test_bad_sweeps(kwargs, words):
    with pytest.raises(ValueError, match="^" + re.escape(words)):
        piest.scale(1e5, **{"workers": [1], **kwargs})


def test_bad_parts():
    with pytest.raises(ValueError, match="no parts"):
        piest.merge([])
    with pytest.raises(ValueError, match="part #1"):
        piest.merge(["{}"])
    with pytest.raises(TypeError):
        piest.merge([3])  # type: ignore[list-item]


def test_a_cache_dir_with_an_unknown_home_is_refused(monkeypatch):
    monkeypatch.delenv("HOME", raising=False)
    if os.path.expanduser("~") != "~":
        # The OS still knows the user's home (its account database): nothing to refuse.
        assert piest.estimate(1000, cache_dir="~/x-piest-test", cache=False).cache is None
        return
    with pytest.raises(ValueError, match="cannot expand '~' in cache_dir"):
        piest.estimate(1000, cache_dir="~/x")


def test_a_panic_in_the_library_is_an_exception_and_the_interpreter_goes_on(capfd):
    # `_panic_for_tests` panics on a library worker thread, where a bug would; the panic must
    # cross the pool and the waiting thread and become pyo3's PanicException (a BaseException,
    # so that `except Exception` does not swallow it), not abort the process.
    with pytest.raises(BaseException) as raised:
        piest._piest._panic_for_tests()
    assert type(raised.value).__name__ == "PanicException"
    assert "a panic on a worker thread, for the tests" in str(raised.value)
    assert "panicked" in capfd.readouterr().err  # Rust's panic message, on stderr
    assert piest.estimate(1e6, workers=2, cache=False).inside == 785100
