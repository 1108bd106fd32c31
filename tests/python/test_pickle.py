"""Hierarchy, Definitions, Dataset and Result pickle by value, so that they
can be sent to other processes; the copies have the same content."""
import os
import pickle
import subprocess
import sys

import pandas as pd
import pytest

import tally
from conftest import DEFINITIONS, HIERARCHY, SMALL_DEFINITIONS

INDICATOR_FIELDS = ("id", "name", "unit", "decimals", "aggregate", "over_time", "direction",
                    "exact", "formula", "min", "max", "index")


def roundtrip(x):
    return pickle.loads(pickle.dumps(x))


def indicators(d):
    return [tuple(getattr(i, f) for f in INDICATOR_FIELDS) for i in d]


def test_hierarchy(small, demo_h):
    h, d, ds = small
    h2 = roundtrip(h)
    assert h2 is not h and h2._handle.ptr != h._handle.ptr
    assert list(h2) == list(h)  # code, name, level, parent, pre-order index
    assert h2.levels == h.levels
    assert h2["V2"].name == "村二, 东"  # a comma in a name survives the CSV text
    h.close()
    assert h2["V2"].parent_code == "T1"  # the copy is its own
    demo2 = roundtrip(demo_h)
    assert len(demo2) == len(demo_h) == 2048
    assert list(demo2) == list(demo_h)
    # Level names from definitions travel too.
    levels = tally.Definitions.from_string("levels: [nation, region, district]\n"
                                           "indicators:\n  - id: x\n")
    hl = tally.Hierarchy.from_bytes("code,name,parent_code\nN,n,\nR,r,N\nD,d,R\n",
                                    definitions=levels)
    assert [r.level for r in roundtrip(hl)] == ["nation", "region", "district"]


def test_definitions(small, demo_d):
    h, d, ds = small
    d2 = roundtrip(d)
    assert indicators(d2) == indicators(d)
    assert d2.levels == d.levels and d2.ids == ["poor", "rural", "exits", "rate"]
    assert d2.source == SMALL_DEFINITIONS
    assert indicators(roundtrip(demo_d)) == indicators(demo_d)
    assert roundtrip(demo_d).source == DEFINITIONS.read_text(encoding="utf-8")


def test_dataset(small):
    h, d, ds = small
    ds2 = roundtrip(ds)
    assert ds2.value_count == ds.value_count == 10
    assert ds2.reported("V1", "poor", "2019-01") == 10
    assert ds2.reported("V2", "exits", "2019-01") is None  # filed empty, still filed
    assert ds2.reported("V3", "exits", "2019-02") == 4
    pd.testing.assert_frame_equal(ds2.rollup().to_pandas(), ds.rollup().to_pandas())
    ds2.add("K2", "poor", "2019-01", 1)  # independent of the original
    assert ds.value_count == 10


def test_result(small):
    h, d, ds = small
    r = ds.rollup(periods=["2019-01", "2019-02", "2019"], compare="pop")
    r2 = roundtrip(r)
    assert r2.periods == ["2019-01", "2019-02", "2019"]
    # By hand: poor at C in January 10 + 5 + 7; exits in the year 1 + 2 + 4.
    assert r2.value("C", "poor", "2019-01") == 22
    assert r2.value("C", "exits", "2019") == 7
    assert r2.previous("C", "exits", "2019-02") == 1
    assert r2.rows(coverage=True) == r.rows(coverage=True)
    pd.testing.assert_frame_equal(r2.to_pandas(layout="wide"), r.to_pandas(layout="wide"))
    ds.close()  # the copy does not need the original dataset
    assert r2.sides("T1", "exits", "2019-01") == r.sides("T1", "exits", "2019-01")


def test_result_of_a_changed_dataset_is_refused(small):
    h, d, ds = small
    r = ds.rollup()
    ds.add("K2", "poor", "2019-01", 1)
    with pytest.raises(pickle.PicklingError, match="its dataset has been closed or changed "
                                                   "since the rollup"):
        pickle.dumps(r)
    r2 = ds.rollup()
    pickle.dumps(r2)
    ds.close()
    with pytest.raises(pickle.PicklingError, match="closed or changed"):
        pickle.dumps(r2)
    ds3 = tally.Dataset(h, d)
    ds3.add("V1", "poor", "2019-01", 1)
    with pytest.raises(pickle.PicklingError, match="it was made with take=True"):
        pickle.dumps(ds3.rollup(take=True))


def test_period():
    p = tally.Period("2019-Q3")
    assert roundtrip(p) == p and str(roundtrip(p)) == "2019-Q3"


def test_in_another_process(tmp_path, demo_ds):
    """A pickle is read by a fresh interpreter, as a worker would."""
    r = demo_ds.rollup(periods=["2019"])
    path = tmp_path / "r.pickle"
    path.write_bytes(pickle.dumps((r, demo_ds.hierarchy)))
    code = ("import pickle, sys; r, h = pickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(len(h), r.value('430600000000', 'exited_population', '2019'))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    # examples/data/README.md: exits over 2019 at the city, 93,424.
    assert out.stdout.split() == ["2048", "93424.0"]
