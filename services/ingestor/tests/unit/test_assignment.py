"""Rendezvous assignment: every replica computes the same, balanced, stable answer."""

from __future__ import annotations

import pytest

from archive_ingestor.assignment import assign, owners, score, seed_channels, view_of

CHANNELS = [f"channel_{i}" for i in range(3000)]


def shares(replicas: list[str], replication: int) -> dict[str, set[str]]:
    return {r: assign(CHANNELS, replicas, r, replication) for r in replicas}


def test_score_is_deterministic() -> None:
    """The same replica and channel always weigh the same (no per-process hash seed)."""
    assert score("ingestor-a", "xqc") == score("ingestor-a", "xqc")
    assert score("ingestor-a", "xqc") != score("ingestor-b", "xqc")


@pytest.mark.parametrize("replicas", [1, 2, 3, 5], ids=lambda n: f"replicas:{n}")
def test_every_channel_has_exactly_one_owner(replicas: int) -> None:
    """With REPLICATION=1 the replicas' shares partition the desired set."""
    names = [f"ingestor-{i}" for i in range(replicas)]
    parts = shares(names, 1)
    assert sum(len(p) for p in parts.values()) == len(CHANNELS)
    assert set().union(*parts.values()) == set(CHANNELS)


def test_shares_are_balanced() -> None:
    """Four replicas each get a quarter of 3,000 channels, give or take 15 %."""
    parts = shares([f"ingestor-{i}" for i in range(4)], 1)
    for part in parts.values():
        assert 750 * 0.85 <= len(part) <= 750 * 1.15


def test_replication_two_gives_each_channel_to_two_replicas() -> None:
    """With REPLICATION=2 every channel is in exactly two shares."""
    parts = shares([f"ingestor-{i}" for i in range(4)], 2)
    for channel in CHANNELS[:300]:
        assert sum(channel in part for part in parts.values()) == 2


def test_replication_at_least_the_replica_count_gives_everything_to_everyone() -> None:
    """Two replicas with REPLICATION=2 both join every channel."""
    parts = shares(["a", "b"], 2)
    assert parts["a"] == parts["b"] == set(CHANNELS)


def test_assign_agrees_with_owners() -> None:
    """`assign` (fast path) and `owners` (ranking) pick the same replicas."""
    names = [f"ingestor-{i}" for i in range(5)]
    parts = shares(names, 2)
    for channel in CHANNELS[:200]:
        assert {r for r in names if channel in parts[r]} == set(owners(channel, names, 2))


def test_a_new_replica_takes_only_from_the_others() -> None:
    """Adding a third replica moves about a third of the channels, all of them to it."""
    before = shares(["a", "b"], 1)
    after = shares(["a", "b", "c"], 1)
    assert after["a"] <= before["a"]
    assert after["b"] <= before["b"]
    assert 0.25 <= len(after["c"]) / len(CHANNELS) <= 0.42


def test_a_leaving_replica_moves_only_its_channels() -> None:
    """Removing a replica leaves every other replica's channels where they were."""
    before = shares(["a", "b", "c"], 1)
    after = shares(["a", "b"], 1)
    assert before["a"] <= after["a"]
    assert before["b"] <= after["b"]


def test_view_ignores_order() -> None:
    """Replicas that see the same live set agree on its view, whatever the order."""
    assert view_of(["b", "a"]) == view_of(["a", "b"])
    assert view_of(["a"]) != view_of(["a", "b"])


def test_seed_channels_normalizes_and_rejects() -> None:
    """CHANNELS may say `#Name`; impossible logins are refused."""
    assert seed_channels(["#Foo", " bar ", "foo"]) == ["bar", "foo"]
    with pytest.raises(ValueError, match="invalid channel"):
        seed_channels(["no.dots"])
