"""Categories (docs/categories.md): records by cause read, rolled up, written
and checked. Expected values come from the records files themselves,
computed here in plain Python, never from the library."""
import csv
import ctypes
import io
import json
import subprocess
from collections import defaultdict

import pytest

import tally
from tally._lib import lib
from conftest import DATA, ROOT, tally_exe

CAT = ROOT / "tests" / "data" / "categories"
YUNXI_H = CAT / "yunxi-hierarchy.csv"
YUNXI_D = CAT / "yunxi.yaml"
YUNXI_R = CAT / "yunxi-records.csv"
CAUSES = ["illness", "disability", "education", "other"]
LUCHENG = "430603101000"  # 陆城镇: files its own total


def run(*args):
    return subprocess.run([tally_exe(), *map(str, args)], capture_output=True, text=True)


def reference():
    """Each town's, the county's and the city's total and options, by hand:
    a village's total is the one it filed, else the sum of its four options
    when it filed all four, else it has none; a region above sums the
    villages below that have the value (the default --prefer computed)."""
    parent, level = {}, {}
    with open(YUNXI_H, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            parent[r["code"]] = r["parent_code"]
            level[r["code"]] = r["level"]
    own = defaultdict(dict)
    with open(YUNXI_R, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["indicator"] == "poor_population" and level[r["region_code"]] == "village":
                own[r["region_code"]][r["cause"] or "total"] = int(r["value"])
    for v in own.values():
        if "total" not in v and all(c in v for c in CAUSES):
            v["total"] = sum(v[c] for c in CAUSES)
    sums = defaultdict(dict)
    for village, v in own.items():
        node = parent[village]
        while node:
            for k, x in v.items():
                sums[node][k] = sums[node].get(k, 0) + x
            node = parent[node]
    return sums, own, parent


def rollup_rows(*extra):
    p = run("rollup", "-H", YUNXI_H, "-d", YUNXI_D, "-r", YUNXI_R, *extra)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_categories__every_option_and_total_up_the_hierarchy():
    sums, _, _ = reference()
    rows = list(csv.DictReader(io.StringIO(rollup_rows("--level", "city,county,town"))))
    got = {(r["region_code"], r["cause"] or "total"): float(r["value"])
           for r in rows if r["indicator"] == "poor_population"}
    towns = [c for c in sums if c.endswith("000") and not c.endswith("000000")]
    assert len(towns) == 5
    for code in towns + ["430603000000", "430600000000"]:
        for k in CAUSES + ["total"]:
            assert got[code, k] == sums[code][k], (code, k)
    # The city's total counts the villages that filed all four options and
    # no total: more than the filed village totals alone.
    with open(YUNXI_R, encoding="utf-8") as f:
        filed = sum(int(r["value"]) for r in csv.DictReader(f)
                    if r["indicator"] == "poor_population" and not r["cause"]
                    and r["region_code"] != LUCHENG)
    assert got["430600000000", "total"] > filed
    # Totals are rows of their own, with the cause column empty.
    assert [r["cause"] for r in rows[:6]] == ["", "", "illness", "disability", "education",
                                             "other"]


def test_categories__a_share_uses_the_same_villages_for_both_operands():
    """illness_share = illness / total * 100 over the villages that have
    both (matched coverage): one that filed three options and no total is
    left out of the numerator as well."""
    _, own, parent = reference()
    num, den = defaultdict(int), defaultdict(int)
    for village, v in own.items():
        if "illness" in v and "total" in v:
            node = parent[village]
            while node:
                num[node] += v["illness"]
                den[node] += v["total"]
                node = parent[node]
    rows = csv.DictReader(io.StringIO(rollup_rows("--level", "city,county,town")))
    shares = {r["region_code"]: r["value"] for r in rows if r["indicator"] == "illness_share"}
    for code, value in shares.items():
        assert value == f"{num[code] / den[code] * 100:.1f}", code


def test_categories__json_has_the_category_key():
    rows = json.loads(rollup_rows("--level", "county", "--format", "json"))
    causes = [(r["indicator"], r["cause"]) for r in rows]
    assert causes[:3] == [("rural_population", None), ("poor_population", None),
                          ("poor_population", "illness")]


def test_categories__a_town_total_that_disagrees_with_its_options_is_flagged():
    with open(YUNXI_R, encoding="utf-8") as f:
        rec = list(csv.DictReader(f))
    filed = [int(r["value"]) for r in rec
             if r["region_code"] == LUCHENG and r["indicator"] == "poor_population"]
    options = sum(int(r["value"]) for r in rec
                  if r["region_code"].startswith("430603101") and r["region_code"] != LUCHENG
                  and r["indicator"] == "poor_population" and r["cause"])
    assert filed == [options + 9]
    p = run("check", "-H", YUNXI_H, "-d", YUNXI_D, "-r", YUNXI_R)
    assert p.returncode == 1, p.stderr
    found = [r for r in csv.DictReader(io.StringIO(p.stdout))
             if r["check"] == "poor_population_by_cause"]
    assert [(r["region_code"], r["expected"], r["actual"]) for r in found] == \
        [(LUCHENG, str(options), str(options + 9))]
    assert f"{options + 9} vs" in found[0]["message"] and f"= {options}" in found[0]["message"]
    assert "建档立卡贫困人口（因病）" in found[0]["message"]


def test_categories__wuge_shares_checked_as_formulas():
    """五个一批, not exclusive: 2,018 / 6,834 is 29.5%, not the 30.8% printed;
    4,595 / 6,834 = 67.2%, 78 / 1,270 = 6.1% and 6,834 / 6,834 = 100% pass."""
    assert f"{2018 / 6834 * 100:.1f}" == "29.5"
    assert f"{4595 / 6834 * 100:.1f}" == "67.2"
    assert f"{78 / 1270 * 100:.1f}" == "6.1"
    p = run("check", "-H", CAT / "wuge-hierarchy.csv", "-d", CAT / "wuge.yaml",
            "-r", CAT / "wuge-2019.csv")
    assert p.returncode == 1, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [(r["check"], r["indicator"], r["expected"], r["actual"]) for r in rows] == \
        [("recomputed", "dibao_share", "29.5", "30.8")]
    # Each option within the total: all pass (printed in the summary).
    assert "poor_population_by_measure_medical" in p.stderr


def test_categories__an_undeclared_category_column_is_refused(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text("region_code,indicator,cause,period,value\n"
                   "430602000000,poor_population,illness,2019,5\n"
                   "430602000000,poor_population,disability,2019,7\n", encoding="utf-8")
    p = run("rollup", "-H", DATA / "yueyang-hierarchy.csv", "-d", DATA / "yueyang.yaml",
            "-r", rec)
    assert p.returncode == 2
    assert f"{rec}:1:23: unknown column 'cause'" in p.stderr
    assert "duplicate" not in p.stderr


def test_categories__a_category_column_on_an_indicator_not_broken_down(tmp_path):
    rec = tmp_path / "r.csv"
    rec.write_text("region_code,indicator,cause,period,value\n"
                   "430603001002,rural_population,illness,2019-12,5\n", encoding="utf-8")
    p = run("rollup", "-H", YUNXI_H, "-d", YUNXI_D, "-r", rec)
    assert p.returncode == 2
    assert f"{rec}:2:31: column 'cause' gives 'illness' for indicator 'rural_population', " \
           "which is not broken down by 'cause'" in p.stderr
    rec.write_text("region_code,indicator,cause,period,value\n"
                   "430603001002,poor_population,illnes,2019-12,5\n", encoding="utf-8")
    p = run("rollup", "-H", YUNXI_H, "-d", YUNXI_D, "-r", rec)
    assert p.returncode == 2
    assert "unknown option 'illnes' of category 'cause'; expected one of illness, " \
           "disability, education, other" in p.stderr


BASE = """\
categories:
  - id: cause
    exclusive: true
    options: [illness, { id: disability, name: 因残 }]
indicators:
  - id: poor
    by: [cause]
"""


@pytest.mark.parametrize("text,code,where,what", [
    (BASE.replace("by: [cause]", "by: [caus]"), tally.NotFoundError, (7, 10),
     "unknown category 'caus'; expected one of cause"),
    (BASE.replace("options: [illness,", "options: [illness, illness,"), tally.Error, (4, 24),
     "option 'illness' given twice in category 'cause'"),
    (BASE.replace("options: [illness,", "options: [ill-ness,"), tally.Error, (4, 15),
     "'ill-ness' is not a valid id"),
    (BASE + "  - id: r\n    formula: poor[cause=illnes] / poor\n", tally.NotFoundError, (9, 14),
     "unknown indicator 'poor[cause=illnes]'"),
    (BASE.replace("indicators:", "  - id: cause\n    options: [a]\nindicators:"), tally.Error,
     (5, 9), "category id 'cause' given twice (first at line 2)"),
])
def test_categories__definition_errors_have_a_place(text, code, where, what):
    with pytest.raises(code) as e:
        tally.Definitions.from_string(text, name="defs.yaml")
    assert (e.value.path, e.value.line, e.value.column) == ("defs.yaml", *where)
    assert what in str(e.value)


def test_categories__accessors_and_pandas():
    d = tally.Definitions.from_yaml(YUNXI_D)
    assert d.ids[:3] == ["rural_population", "poor_population", "poor_population[cause=illness]"]
    out = ctypes.c_size_t()
    dp = d._handle.ptr
    lib.tally_definitions_slot(dp, 1, 0, 2, ctypes.byref(out))
    assert out.value == d.ids.index("poor_population[cause=education]")
    assert lib.tally_definitions_option(dp, out.value, 0) == 2
    assert lib.tally_definitions_base(dp, out.value) == 1
    assert lib.tally_definitions_category_exclusive(dp, 0) == 1
    assert lib.tally_definitions_option_name(dp, 0, 1).decode() == "因残"
    # Options in any order, `*` for the total, resolve to the same slots.
    assert lib.tally_definitions_find(dp, b"poor_population[cause=*]", 24,
                                      ctypes.byref(out)) == 0 and out.value == 1
    h = tally.Hierarchy.from_csv(YUNXI_H)
    ds = tally.Dataset(h, d)
    ds.read_records(YUNXI_R)
    r = ds.rollup()
    df = r.to_pandas(level="county")
    assert list(df.columns[:5]) == ["region_code", "region_name", "level", "indicator", "cause"]
    assert list(df["cause"].cat.categories) == CAUSES
    sums, _, _ = reference()
    sel = df[(df.indicator == "poor_population") & (df.cause == "education")]
    assert sel.value.tolist() == [sums["430603000000"]["education"]]
    assert df[df.indicator == "poor_population"].cause.isna().sum() == 1
    rows = r.rows(level="county", indicator="poor_population[cause=other]")
    assert [(x["indicator"], x["cause"], x["value"]) for x in rows] == \
        [("poor_population", "other", sums["430603000000"]["other"])]
    rows = r.rows(level="county", indicator="poor_population")
    assert [(x["cause"], x["value"]) for x in rows] == \
        [(k, sums["430603000000"][k or "total"]) for k in [None] + CAUSES]


CROSS = """\
categories:
  - id: cause
    exclusive: true
    options: [a, b]
  - id: sex
    exclusive: true
    options: [f, m]
  - id: help
    options: [x]
indicators:
  - id: poor
    over_time: flow
    by: [cause, sex]
  - id: helped
    over_time: stock
    by: [help]
"""

CROSS_RECORDS = """\
region_code,indicator,cause,sex,help,period,value
V1,poor,a,f,,2019-01,1
V1,poor,a,m,,2019-01,2
V1,poor,b,f,,2019-01,3
V1,poor,b,m,,2019-01,4
V2,poor,a,f,,2019-01,5
V2,poor,a,m,,2019-01,6
V2,poor,b,f,,2019-01,7
V3,poor,a,,,2019-01,1
V3,poor,b,,,2019-01,9
V3,poor,a,,,2019-02,2
V3,poor,b,,,2019-02,3
V1,helped,,,x,2019-01,4
"""


def test_categories__cross_classification_margins_and_time():
    """By hand. V1 files the four cells: its margins and total are filled
    from them (a 3, b 7, f 4, m 6, total 10). V2 lacks b/m: a = 11 and
    f = 12 are filled, b, m and the total are missing. V3 files the cause
    margins only: total 10 in January, and over Q1 (a flow) 1+2 + 9+3 = 15;
    its sex margins stay missing. A non-exclusive category's total is
    never filled (helped)."""
    from conftest import SMALL_HIERARCHY
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY)
    d = tally.Definitions.from_string(CROSS)
    assert len(d.ids) == 1 + 8 + 1 + 1  # poor, (2+1)*(2+1)-1 slots, helped, 1 slot
    ds = tally.Dataset(h, d)
    ds.read_bytes(CROSS_RECORDS)
    r = ds.rollup(periods=["2019-01", "2019-Q1"])
    got = {(x["region_code"], x["indicator"], x["cause"], x["sex"], x["help"], x["period"]):
           x["value"] for x in r.rows()}

    def poor(code, cause, sex, period="2019-01"):
        return got[code, "poor", cause, sex, None, period]

    assert [poor("V1", c, s) for c, s in [(None, None), ("a", None), ("b", None),
                                          (None, "f"), (None, "m")]] == [10, 3, 7, 4, 6]
    assert [poor("V2", c, s) for c, s in [(None, None), ("a", None), ("b", None),
                                          (None, "f"), (None, "m")]] == [None, 11, None, 12, None]
    assert [poor("T1", c, s) for c, s in [("a", "f"), ("a", "m"), ("b", "f"), ("b", "m")]] == \
        [6, 8, 10, 4]
    assert [poor("T1", c, s) for c, s in [(None, None), ("a", None), ("b", None),
                                          (None, "f"), (None, "m")]] == [10, 14, 7, 16, 6]
    assert [poor("T2", c, None) for c in [None, "a", "b"]] == [10, 1, 9]
    assert poor("T2", None, "f") is None
    assert [poor("K1", c, s) for c, s in [(None, None), ("a", None), ("b", None),
                                          (None, "f"), (None, "m")]] == [20, 15, 16, 16, 6]
    assert poor("T2", None, None, "2019-Q1") == 15
    assert poor("V3", "b", None, "2019-Q1") == 12
    assert got["V1", "helped", None, None, "x", "2019-01"] == 4
    assert got["V1", "helped", None, None, None, "2019-01"] is None


def test_categories__indicator_option_selects_its_slots(tmp_path):
    """--indicator poor_population writes the total and its options."""
    p = run("rollup", "-H", YUNXI_H, "-d", YUNXI_D, "-r", YUNXI_R, "--level", "county",
            "--indicator", "poor_population")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [r["cause"] for r in rows] == [""] + CAUSES
    p = run("rollup", "-H", YUNXI_H, "-d", YUNXI_D, "-r", YUNXI_R, "--level", "county",
            "--indicator", "poor_population[cause=other]")
    assert [r["cause"] for r in csv.DictReader(io.StringIO(p.stdout))] == ["other"]


def test_categories__an_old_code_with_an_option_is_not_carried():
    """A crosswalk carries a row of an old code to its new region, but not
    yet to an option: refused, never stored under the total."""
    from test_crosswalk import NEW, OLD
    old, new = tally.Hierarchy.from_bytes(OLD), tally.Hierarchy.from_bytes(NEW)
    cw = tally.Crosswalk.infer(old, new)
    defs = tally.Definitions.from_string(
        "categories:\n  - { id: cause, exclusive: true, options: [a, b] }\n"
        "indicators:\n  - { id: poor, by: [cause] }\n")
    ds = tally.Dataset(new, defs)
    with pytest.raises(tally.Error) as e:
        ds.read_bytes("region_code,indicator,cause,period,value\n"
                      "110102001002,poor,a,2019,5\n", crosswalk=cw)
    assert (e.value.line, e.value.column) == (2, 1)
    assert "does not carry a row with an option of a category (column 'cause')" in str(e.value)
