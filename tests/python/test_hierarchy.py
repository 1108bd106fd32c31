"""tally.Hierarchy and tally.Definitions: loading, lookups, errors."""
import pytest

import tally
from conftest import HIERARCHY, SMALL_DEFINITIONS, SMALL_HIERARCHY


def test_hierarchy__demo_lookups(demo_h):
    # examples/data/README.md: 2,048 nodes: 1 city, 10 counties, 138 towns, 1,899 villages.
    assert len(demo_h) == 2048
    city = demo_h["430600000000"]
    assert (city.code, city.name, city.level, city.parent_code) == \
        ("430600000000", "岳阳市", "city", None)
    county = demo_h["430602000000"]
    assert (county.name, county.level, county.parent_code) == \
        ("岳阳楼区", "county", "430600000000")
    village = demo_h["430602001001"]
    assert (village.name, village.level, village.parent_code) == \
        ("郭亮社区", "village", "430602001000")
    levels = [r.level for r in demo_h]
    assert [levels.count(x) for x in ("city", "county", "town", "village")] == [1, 10, 138, 1899]
    assert demo_h.levels == ["province", "city", "county", "town", "village"]


def test_hierarchy__children_against_the_file(demo_h):
    # Independent: the children of every region read straight from the CSV.
    import csv
    with open(HIERARCHY, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = {}
    for row in rows:
        expected.setdefault(row["parent_code"], []).append(row["code"])
    for row in rows:
        got = [r.code for r in demo_h.children(row["code"])]
        assert got == expected.get(row["code"], []), row["code"]
        assert all(r.parent_code == row["code"] for r in demo_h.children(row["code"]))
    # 岳阳市 has the ten counties.
    assert len(demo_h.children("430600000000")) == 10


def test_hierarchy__small_and_descendants():
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY)
    assert len(h) == 8
    assert [r.code for r in h.children("C")] == ["K1", "K2"]
    assert [r.code for r in h.children("K1")] == ["T1", "T2"]
    assert h.children("V1") == []
    assert [r.code for r in h.descendants("K1")] == ["T1", "V1", "V2", "T2", "V3"]
    assert h["V2"].name == "村二, 东"
    assert h["V2"].index == 4
    assert h.region(4) == h["V2"]
    assert "V3" in h and "V9" not in h and 3 not in h
    with pytest.raises(IndexError):
        h.region(8)


def test_hierarchy__unknown_code_is_a_key_error(demo_h):
    with pytest.raises(KeyError) as info:
        demo_h["430602001099"]
    e = info.value
    assert isinstance(e, tally.NotFoundError) and isinstance(e, tally.Error)
    assert e.code == -4
    assert "430602001099" in str(e)
    with pytest.raises(tally.NotFoundError):
        demo_h.children("nope")
    with pytest.raises(TypeError):
        demo_h[430602001001]


def test_hierarchy__levels_option():
    h = tally.Hierarchy.from_bytes("code,name,level,parent_code\nA,a,region,\nB,b,district,A\n",
                                   levels=["region", "district"])
    assert h.levels == ["region", "district"]
    assert (h["A"].level, h["B"].level, h["B"].parent_code) == ("region", "district", "A")


def test_hierarchy__errors_carry_line_and_column(tmp_path):
    # A duplicate code on line 4, column 1.
    p = tmp_path / "dup.csv"
    p.write_text("code,name,parent_code\nA,a,\nB,b,A\nA,again,\n", encoding="utf-8")
    with pytest.raises(tally.DuplicateError) as info:
        tally.Hierarchy.from_csv(p)
    e = info.value
    assert (e.code, e.path, e.line, e.column) == (-6, str(p), 4, 1)
    assert e.message.startswith(f"{p}:4:1: ")
    # An unknown parent: line 3, the parent_code field starts at column 5 ("B,b," is 4 chars).
    with pytest.raises(tally.NotFoundError) as info:
        tally.Hierarchy.from_bytes("code,name,parent_code\nA,a,\nB,b,Z\n", name="mem.csv")
    assert (info.value.path, info.value.line, info.value.column) == ("mem.csv", 3, 5)


def test_hierarchy__missing_file_is_an_os_error(tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(OSError) as info:
        tally.Hierarchy.from_csv(missing)
    e = info.value
    assert isinstance(e, tally.FileError)
    assert e.code == -2 and e.path == str(missing) and e.filename == str(missing)
    assert e.errno is None


def test_definitions__demo(demo_d):
    assert len(demo_d) == 4
    assert demo_d.ids == ["rural_population", "poor_population", "exited_population", "incidence"]
    inc = demo_d["incidence"]
    assert (inc.name, inc.unit, inc.decimals, inc.aggregate, inc.over_time, inc.direction) == \
        ("贫困发生率", "%", 2, "formula", None, "lower_is_better")
    assert inc.formula == "poor_population / rural_population * 100"
    poor = demo_d["poor_population"]
    assert (poor.aggregate, poor.over_time, poor.decimals, poor.exact, poor.min, poor.max) == \
        ("sum", "stock", 0, True, 0.0, None)
    assert demo_d["exited_population"].over_time == "flow"
    assert "incidence" in demo_d and "nope" not in demo_d
    assert [i.id for i in demo_d] == demo_d.ids
    assert demo_d.levels == ["province", "city", "county", "town", "village"]
    with pytest.raises(KeyError):
        demo_d["nope"]


def test_definitions__from_string():
    d = tally.Definitions.from_string(SMALL_DEFINITIONS)
    assert d.ids == ["poor", "rural", "exits", "rate"]
    assert d.levels == []
    assert d["rate"].decimals == 2 and d["exits"].decimals == 0


def test_definitions__errors_carry_line_and_column(tmp_path):
    # The unknown key `bogus` stands on line 4, column 5.
    text = "indicators:\n  - id: a\n    unit: x\n    bogus: 1\n"
    with pytest.raises(tally.ParseError) as info:
        tally.Definitions.from_string(text, name="bad.yaml")
    e = info.value
    assert (e.code, e.path, e.line, e.column) == (-3, "bad.yaml", 4, 5)
    assert isinstance(e, ValueError)
    # The same from a file: the path is the file's.
    p = tmp_path / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(tally.ParseError) as info:
        tally.Definitions.from_yaml(p)
    assert (info.value.path, info.value.line, info.value.column) == (str(p), 4, 5)
    # A formula over an unknown indicator: NotFoundError.
    with pytest.raises(tally.NotFoundError):
        tally.Definitions.from_string("indicators:\n  - id: r\n    formula: x / 2\n")


def test_levels_from_definitions(tmp_path):
    d = tally.Definitions.from_string("levels: [region, district]\nindicators:\n  - id: a\n")
    h = tally.Hierarchy.from_bytes("code,name,level,parent_code\nA,a,region,\nB,b,district,A\n",
                                   levels=d.levels)
    assert h.levels == ["region", "district"]
    assert h["B"].level == "district"
    with pytest.raises(TypeError):
        tally.Hierarchy.from_bytes("code,name\nA,a\n", levels="region")


def test_levels_given_by_the_definitions(tmp_path):
    d = tally.Definitions.from_string("levels: [region, district]\nindicators:\n  - id: a\n")
    text = "code,name,level,parent_code\nA,a,region,\nB,b,district,A\n"
    h = tally.Hierarchy.from_bytes(text, definitions=d)
    assert h.levels == ["region", "district"]
    assert h["B"].level == "district"
    p = tmp_path / "h.csv"
    p.write_text(text, encoding="utf-8")
    assert tally.Hierarchy.from_csv(p, definitions=d).levels == ["region", "district"]
    # The hierarchy keeps its own copy of the names.
    d.close()
    assert h.levels == ["region", "district"]
    # Definitions without levels: the default five.
    plain = tally.Definitions.from_string("indicators:\n  - id: a\n")
    assert tally.Hierarchy.from_bytes("code,name\n430000000000,a\n",
                                      definitions=plain).levels == \
        ["province", "city", "county", "town", "village"]
    # Names of one's own or the definitions', not both.
    with pytest.raises(tally.InvalidError, match="both level_names and definitions"):
        tally.Hierarchy.from_bytes(text, levels=["region", "district"], definitions=plain)
    with pytest.raises(TypeError, match="expected a tally.Definitions"):
        tally.Hierarchy.from_bytes(text, definitions=["region", "district"])
    with pytest.raises(ValueError, match="closed"):
        tally.Hierarchy.from_bytes(text, definitions=d)


def test_encoding_gb18030(tmp_path):
    p = tmp_path / "gb.csv"
    p.write_bytes(SMALL_HIERARCHY.encode("gb18030"))
    h = tally.Hierarchy.from_csv(p, encoding="gb18030")
    assert (h["C"].name, h["V2"].name) == ("岳阳市", "村二, 东")
    # Read as UTF-8 it is refused, at the first name that is not UTF-8 (line 2, column 3),
    # with a hint to declare the encoding.
    with pytest.raises(tally.ParseError) as info:
        tally.Hierarchy.from_csv(p)
    assert (info.value.line, info.value.column) == (2, 3)
    assert "gb18030" in info.value.message
    d = tally.Definitions.from_string(SMALL_DEFINITIONS)
    ds = tally.Dataset(h, d)
    ds.read_bytes("region_code,indicator,period,value\nV1,poor,2019-01,4\n".encode("gb18030"),
                  encoding="gb18030")
    assert ds.reported("V1", "poor", "2019-01") == 4
    with pytest.raises(tally.Error):
        ds.read_bytes(b"region_code,indicator,period,value\n", encoding="no-such-encoding")
