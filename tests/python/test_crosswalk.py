"""tally.Crosswalk: inference on tables made by hand, reading an edited file."""
import pytest

import tally

OLD = """code,name,level,parent_code
110000000000,省,province,
110100000000,市,city,110000000000
110101000000,甲县,county,110100000000
110101001000,东镇,town,110101000000
110101001001,一村村委会,village,110101001000
110102000000,乙区,county,110100000000
110102001000,南街道,town,110102000000
110102001002,四村,village,110102001000
"""

NEW = """code,name,level,parent_code
110000000000,省,province,
110100000000,市,city,110000000000
110102000000,乙区,county,110100000000
110102001000,南街道,town,110102000000
110181000000,甲市,county,110100000000
110181001000,东街道,town,110181000000
110181001001,一村村民委员会,village,110181001000
"""


@pytest.fixture
def tables():
    return tally.Hierarchy.from_bytes(OLD), tally.Hierarchy.from_bytes(NEW)


def test_crosswalk__infer(tables):
    old, new = tables
    cw = tally.Crosswalk.infer(old, new)
    # By hand: 甲县's one town reappears (东镇 as 东街道) under the new 甲市;
    # 四村 is gone, inside its town, which stays.
    got = {r["from_code"]: (r["to_code"], r["how"], r["share"]) for r in cw}
    assert got == {
        "110000000000": ("110000000000", "same", 1.0),
        "110100000000": ("110100000000", "same", 1.0),
        "110101000000": ("110181000000", "recoded", 1.0),
        "110101001000": ("110181001000", "recoded", 1.0),
        "110101001001": ("110181001001", "recoded", 1.0),
        "110102000000": ("110102000000", "same", 1.0),
        "110102001000": ("110102001000", "same", 1.0),
        "110102001002": ("110102001000", "merged", 1.0),
    }
    assert cw["110101000000"][0]["to_name"] == "甲市"
    assert cw.counts()["village"]["merged"] == 1
    with pytest.raises(KeyError):
        cw["999"]


def test_crosswalk__edited_file_refused_with_its_line(tables, tmp_path):
    _, new = tables
    p = tmp_path / "cw.csv"
    p.write_text("from_code,to_code,share\n"
                 "110101000000,110181000000,0.5\n"
                 "110101000000,110102000000,0.4\n", encoding="utf-8")
    with pytest.raises(tally.Error) as e:
        tally.Crosswalk.from_csv(p, to=new)
    assert (e.value.line, e.value.column) == (3, 27)
    assert "sum to 0.9" in str(e.value)


def test_crosswalk__round_trip_and_pandas(tables, tmp_path):
    old, new = tables
    cw = tally.Crosswalk.infer(old, new)
    p = tmp_path / "cw.csv"
    cw.to_csv(p)
    back = tally.Crosswalk.from_csv(p, to=new)
    assert list(back) == list(cw)
    pd = pytest.importorskip("pandas")
    df = back.to_pandas()
    assert list(df.columns) == ["from_code", "from_name", "to_code", "to_name", "share", "how"]
    assert len(df) == 8


def test_crosswalk__records_carried(tables):
    old, new = tables
    cw = tally.Crosswalk.infer(old, new)
    defs = tally.Definitions.from_string(
        "indicators:\n  - id: poor\n    name: poor\n    unit: p\n    aggregate: sum\n")
    ds = tally.Dataset(new, defs)
    rejected = ds.read_bytes("region_code,indicator,period,value\n"
                             "110101001001,poor,2019,7\n"    # 一村, recoded by name
                             "110101000000,poor,2019,\n"     # 甲县 itself, an empty cell
                             "110102001002,poor,2019,5\n",   # 四村: gone, merged into 南街道
                             on_error="collect", crosswalk=cw)
    assert list(rejected) == [] and rejected.rows_accepted == 3
    r = ds.rollup()
    assert r.value("110181001001", "poor", "2019") == 7
    assert r.value("110102001000", "poor", "2019") == 5
    assert r.value("110000000000", "poor", "2019") == 12   # 7 + 5, each counted once
