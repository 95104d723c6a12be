"""find_unused_parameters: parameters forward does not reach."""

from __future__ import annotations


def test_unused_parameters_are_found_and_the_used_ones_averaged(launch) -> None:
    result = launch("unused.py", "find")
    assert result.returncode == 0, result.stderr
    assert "rank 0 averaged" in result.stdout and "rank 1 averaged" in result.stdout


def test_without_find_unused_parameters_the_next_forward_says_why(launch) -> None:
    result = launch("unused.py", "strict")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("reduction never finished") == 2
    assert "find_unused_parameters=True" in result.stdout
