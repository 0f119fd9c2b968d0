"""Golden outputs: a set of editions gives the same bytes as recorded (tests/fixtures/golden.json).

A change of bytes is either a regression or on purpose; if on purpose, run `scripts/record-golden` and say in the
commit why the outputs changed.
"""

from __future__ import annotations

import pytest

from golden import EDITIONS, GOLDEN, build, environment, recorded, recorded_environment

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(EDITIONS))
def test_edition_bytes_are_as_recorded(name, tmp_path):
    then, now = recorded_environment(), environment()
    if then != now:  # other libraries or fonts write other bytes: nothing to compare with
        moved = ", ".join(f"{k} {then.get(k)} → {now.get(k)}" for k in sorted(then.keys() | now.keys())
                          if then.get(k) != now.get(k))
        pytest.skip(f"the golden outputs were recorded with other libraries or fonts ({moved}); "
                    f"run scripts/record-golden on an unchanged checkout to record them here")
    expected = recorded().get(name)
    assert expected is not None, f"no hashes for {name!r} in {GOLDEN.name}: run scripts/record-golden"
    actual = build(name, tmp_path / name)
    changed = sorted(f for f in expected.keys() | actual.keys() if expected.get(f) != actual.get(f))
    assert not changed, (
        f"{name}: {', '.join(changed)} differ from {GOLDEN.name} (missing, new or other bytes). "
        "If the change is on purpose, run scripts/record-golden and say why in the commit."
    )


def test_every_recorded_edition_is_still_built():
    assert set(recorded()) == set(EDITIONS), f"{GOLDEN.name} and tests/golden.py name other editions"
