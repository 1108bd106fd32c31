"""tally.Dataset.check: findings by hand, and the same findings as `tally check`."""
import csv
import io
import subprocess

import pytest

import tally
from conftest import DATA, HIERARCHY, SMALL_HIERARCHY, SMALL_RECORDS, tally_exe

CHECKS = DATA / "yueyang-checks.yaml"
PUBLISHED = DATA / "yueyang-published-2019.csv"
TARGETS = DATA / "yueyang-targets-2019.csv"

SMALL_CHECKS = """\
indicators:
  - id: poor
    name: 贫困人口
    over_time: stock
    min: 0
  - id: rural
    name: 农业人口
    over_time: stock
  - id: exits
    over_time: flow
checks:
  - id: adds_up
    hierarchy: [poor]
    tolerance: 0
    severity: error
  - id: poor_within_rural
    rule: poor <= rural
    severity: warning
"""


def test_check__small_by_hand():
    h = tally.Hierarchy.from_bytes(SMALL_HIERARCHY)
    d = tally.Definitions.from_string(SMALL_CHECKS)
    ds = tally.Dataset(h, d)
    ds.read_bytes(SMALL_RECORDS)
    assert ds.check() == []
    # T1 publishes 16 poor for January; its villages add up to V1 10 + V2 5 = 15.
    # V3 files 150 poor against 100 rural (it filed 7 before: a new month).
    ds.add(["T1", "V3", "V3"], ["poor", "poor", "rural"], ["2019-01", "2019-02", "2019-02"],
           [16, 150, 100])
    findings = ds.check()
    # The rule holds nowhere above V3 either in February: T2, K1 and C have only V3's
    # figures (150 > 100). Regions come in pre-order.
    assert [(f.check, f.kind, f.severity, f.region_code, f.period, f.indicator) for f in findings] \
        == [("adds_up", "hierarchy", "error", "T1", "2019-01", "poor")] + \
        [("poor_within_rural", "rule", "warning", code, "2019-02", None)
         for code in ("C", "K1", "T2", "V3")]
    f = findings[0]
    assert (f.expected, f.actual, f.difference, f.region_name) == (15, 16, 1, "镇一")
    assert "镇一" in f.message and "16" in f.message and "15" in f.message
    assert findings.error_count == 1
    summary = {s["check"]: s for s in findings.summary}
    assert summary["adds_up"]["fails"] == 1 and summary["poor_within_rural"]["fails"] == 4
    for s in findings.summary:
        assert s["items"] == s["passes"] + s["warnings"] + s["fails"] + s["missing"]
    # Only the periods asked for.
    assert [f.check for f in ds.check(periods="2019-02")] == ["poor_within_rural"] * 4
    # A bound: poor has min 0.
    ds.add("V1", "poor", "2019-03", -1)
    (b,) = [f for f in ds.check(periods=["2019-03"]) if f.kind == "bounds"]
    assert (b.region_code, b.actual, b.indicator) == ("V1", -1, "poor")
    with pytest.raises(tally.ParseError):
        ds.check(periods=["2019-13"])
    df = findings.to_pandas()
    assert list(df.columns) == ["check", "severity", "region_code", "region_name", "period",
                                "indicator", "expected", "actual", "difference", "message"]


def test_check__same_findings_as_the_tally_program(tmp_path):
    out = subprocess.run([tally_exe(), "check", "-H", str(HIERARCHY), "-d", str(CHECKS),
                          "-r", str(DATA / "yueyang-2019.csv"), "-r", str(PUBLISHED),
                          "-t", str(TARGETS)], capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 1  # findings of severity error
    d = tally.Definitions.from_yaml(CHECKS)
    h = tally.Hierarchy.from_csv(HIERARCHY, levels=d.levels)
    ds = tally.Dataset(h, d)
    ds.read_records(DATA / "yueyang-2019.csv")
    ds.read_records(PUBLISHED)
    findings = ds.check(targets=TARGETS)
    findings.to_csv(tmp_path / "findings.csv")
    assert (tmp_path / "findings.csv").read_text(encoding="utf-8") == out.stdout
    cli = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(findings) == len(cli) > 0
    assert findings.error_count == sum(r["severity"] == "error" for r in cli)
    # The summary table on standard error has the same counts.
    lines = [x for x in out.stderr.splitlines() if x.startswith("tally check: ")]
    table = {}
    for x in lines:
        parts = x.split()
        if len(parts) == 8 and parts[3].isdigit():
            table[parts[2]] = [int(p) for p in parts[3:]]
    assert table == {s["check"]: [s["items"], s["passes"], s["warnings"], s["fails"], s["missing"]]
                     for s in findings.summary}


def test_check__prev_rule_from_python():
    # A stock-flow account by hand: 100 remaining in 2017, 20 exits in 2018,
    # so 80 in 2018; written 85, the rule fails at 2018 only (2017 has no
    # 2016 to look back to: not evaluated). The derived increment of a
    # year-to-date: 11 in January, 25 - 11 = 14 in February.
    h = tally.Hierarchy.from_bytes("code,name,level,parent_code\nT,洋湖镇,town,\n".encode())
    d = tally.Definitions.from_string("""\
levels: [town]
indicators:
  - { id: remaining, over_time: stock }
  - { id: exited, over_time: flow }
  - { id: ytd, over_time: cumulative }
  - { id: month, derive: increment, of: ytd }
checks:
  - id: stock_flow
    rule: remaining == prev(remaining) - exited
""")
    ds = tally.Dataset(h, d)
    ds.add(["T"] * 6, ["remaining", "exited", "remaining", "exited", "ytd", "ytd"],
           ["2017", "2017", "2018", "2018", "2019-01", "2019-02"], [100, 30, 85, 20, 11, 25])
    findings = ds.check()
    rule = [f for f in findings if f.check == "stock_flow"]
    assert [(f.period, f.expected, f.actual) for f in rule] == [("2018", 80, 85)]
    assert "2017's 100" in rule[0].message
    r = ds.rollup(periods=["2019-01", "2019-02"])
    assert [r.value("T", "month", p) for p in ("2019-01", "2019-02")] == [11, 14]
