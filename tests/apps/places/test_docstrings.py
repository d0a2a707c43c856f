"""The examples in the places modules' docstrings run (pytest collects doctests only in
the engine)."""

import doctest

import pytest

from citycheck.places import geo, services


@pytest.mark.parametrize("module", [geo, services])
def test_docstring_examples(module):
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failures == 0
