"""FrozenDict: the env/metadata mappings of specs and records cannot be changed after the fact."""

from __future__ import annotations

import pytest

from molq.core._frozen import FrozenDict, freeze, freeze_required


def test_equal_contents_hash_alike_and_different_ones_differ():
    """Mappings with the same items hash the same whatever their order; other items hash otherwise."""
    assert hash(FrozenDict({"a": "1", "b": "2"})) == hash(FrozenDict({"b": "2", "a": "1"}))
    assert hash(FrozenDict({"a": "1"})) != hash(FrozenDict({"a": "2"}))


def test_changes_are_refused_with_a_message():
    """Every mutating method raises TypeError saying to build a new mapping."""
    frozen = FrozenDict({"a": "1"})
    with pytest.raises(TypeError, match="immutable; build a new one"):
        frozen["b"] = "2"
    with pytest.raises(TypeError):
        frozen.update({"b": "2"})
    assert frozen == {"a": "1"}


def test_freeze_keeps_none_and_frozen_values():
    """freeze leaves None and FrozenDicts as they are; freeze_required turns None into {}."""
    already = FrozenDict({"a": "1"})
    assert freeze(None) is None
    assert freeze(already) is already
    assert freeze({"a": "1"}) == already
    assert freeze_required(None) == {}
    assert isinstance(freeze_required(None), FrozenDict)
    assert freeze_required({"x": "y"}) == {"x": "y"}
