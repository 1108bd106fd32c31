"""Shared fixtures of the Python binding tests.

meson test sets TALLY_LIBRARY (the built libtally.so), TALLY_EXE (the built
tally program), TALLY_SOURCE_ROOT and PYTHONPATH (bindings/python)."""
import os
import pathlib

import pytest

if not os.environ.get("TALLY_LIBRARY"):
    # The bindings would look for an installed library, not this build's.
    pytest.exit("TALLY_LIBRARY is not set: run the tests through `meson test python`, or set it "
                "to the libtally.so to test (build/lib/libtally.so)", returncode=2)

import tally  # noqa: E402

ROOT = pathlib.Path(os.environ.get("TALLY_SOURCE_ROOT",
                                   pathlib.Path(__file__).resolve().parents[2]))
DATA = ROOT / "examples" / "data"
HIERARCHY = DATA / "yueyang-hierarchy.csv"
DEFINITIONS = DATA / "yueyang.yaml"
RECORDS = DATA / "yueyang-2019.csv"
BAD_RECORDS = DATA / "bad-records.csv"

# A small hierarchy for hand-computed expectations:
#   C 岳阳市 (city)
#     K1 county
#       T1 town: V1, V2 villages
#       T2 town: V3 village
#     K2 county (no children)
SMALL_HIERARCHY = """\
code,name,level,parent_code
C,岳阳市,city,
K1,县一,county,C
T1,镇一,town,K1
V1,村一,village,T1
V2,"村二, 东",village,T1
T2,镇二,town,K1
V3,村三,village,T2
K2,县二,county,C
"""

SMALL_DEFINITIONS = """\
indicators:
  - id: poor
    name: 贫困人口
    unit: 人
    aggregate: sum
    over_time: stock
  - id: rural
    name: 农业人口
    unit: 人
    over_time: stock
  - id: exits
    name: 脱贫人口
    over_time: flow
  - id: rate
    name: 贫困发生率
    unit: "%"
    formula: poor / rural * 100
    decimals: 2
"""

# Village reports. Hand-computed expectations are in the tests.
SMALL_RECORDS = """\
region_code,indicator,period,value
V1,poor,2019-01,10
V1,rural,2019-01,200
V1,exits,2019-01,1
V1,exits,2019-02,2
V2,poor,2019-01,5
V2,rural,2019-01,300
V2,exits,2019-01,
V3,poor,2019-01,7
V3,rural,2019-01,100
V3,exits,2019-02,4
"""


@pytest.fixture
def small():
    """(hierarchy, definitions, dataset) over the small fixture, records read."""
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY.encode(), name="small.csv")
    d = tally.Definitions.from_string(SMALL_DEFINITIONS, name="small.yaml")
    ds = tally.Dataset(h, d)
    ds.read_bytes(SMALL_RECORDS, name="small-records.csv")
    yield h, d, ds
    ds.close()
    h.close()
    d.close()


@pytest.fixture(scope="session")
def demo_h():
    return tally.Hierarchy.from_csv(HIERARCHY)


@pytest.fixture(scope="session")
def demo_d():
    return tally.Definitions.from_yaml(DEFINITIONS)


@pytest.fixture(scope="session")
def demo_ds(demo_h, demo_d):
    ds = tally.Dataset(demo_h, demo_d)
    assert ds.read_records(RECORDS) == []
    return ds


def tally_exe():
    exe = os.environ.get("TALLY_EXE")
    if not exe:
        pytest.fail("TALLY_EXE is not set: run the tests through `meson test python`")
    return exe
