#!/usr/bin/env python3
"""Generated test for `tally check`: consistent data over a random
hierarchy, a known list of injected errors of every kind, and the
findings compared with that list exactly.

For each seed the script builds
  - a hierarchy: a root, 3-4 counties, 2-4 towns per county with 3-6
    villages each, and 0-2 villages hanging directly on a county (a
    skipped level);
  - village reports for 2019-01..2019-06 that are consistent: counts, an
    identity (reg == poor + out), money amounts printed with one decimal
    (fund, spent, balance = fund - spent, each rounded from a three-decimal
    true value), a year-to-date count that never falls, outlier-free
    sibling values, steady monthly figures;
  - the figures every town, county and the root publish: exact sums,
    rounded sums of the true amounts, and the shares incidence = poor /
    pop * 100 (2 decimals, from exact counts) and spend_rate = spent / fund
    * 100 (1 decimal, correctly rounded from the TRUE amounts, so that the
    printed operands explain them only within their rounding);
  - annual targets that decompose exactly;
  - one town that prints no amounts, only its spend rate, so that its
    operands are its villages' sums (each carrying half a unit per
    village).
Then it injects errors, each designed to make exactly one finding:
hierarchy (a published count, with the publisher's other figures kept
consistent with it), rule (an identity, and a balance 0.4 off), bounds
(a negative flow, a share above 100), recomputed (a share 0.03 off, a
share truncated instead of rounded, a spend rate 2.0 off), monotonic
(a year-to-date figure that falls), completeness (a village with no
record, one with an empty cell), outlier (a value far from its
siblings), jump (a figure five times the previous month's), targets
(a county whose towns' targets fall short). It also leaves gaps that must
raise nothing: a village without an operand of the identity, without its
visits or its last month's calls, and, under the one town that prints no
amounts (only its spend rate), a village without its fund: that town's
fund is then a partial sum, and neither its spend rate nor its balance
identity may be judged on it.

The expected set is the injected list plus the warnings that the rounding
of printed operands makes, predicted here with exact rational arithmetic:
spend_rate values more than half a unit from the value recomputed from the
printed operands, yet within the interval those operands allow. Clean
rounding cases must give no error. The script asserts tally's findings
(check, severity, region, indicator, period) equal the expected set,
exactly, for every seed, and that the data before injection gives no
finding but the predicted warnings.

Usage: generated-check.py TALLY [SEEDS]
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MONTHS = ["2019-%02d" % m for m in range(1, 7)]

DEFINITIONS = """\
indicators:
  - { id: pop, name: 人口, over_time: stock, min: 0 }
  - { id: poor, name: 贫困人口, over_time: stock, min: 0 }
  - { id: reg, name: 建档人数, over_time: stock, min: 0 }
  - { id: out, name: 已出列人数, over_time: stock, min: 0 }
  - { id: exits, name: 脱贫人数, over_time: flow, min: 0 }
  - { id: fund, name: 资金, over_time: stock, decimals: 1, exact: false, min: 0 }
  - { id: spent, name: 支出, over_time: stock, decimals: 1, exact: false, min: 0 }
  - { id: balance, name: 结余, over_time: stock, decimals: 1, exact: false }
  - { id: share, name: 女性占比, over_time: stock, decimals: 1, exact: false, min: 0, max: 100 }
  - { id: trained, name: 累计培训, over_time: cumulative, min: 0 }
  - { id: households, name: 户数, over_time: stock }
  - { id: visits, name: 走访次数, aggregate: mean, over_time: stock }
  - { id: calls, name: 来电, over_time: stock }
  - { id: incidence, name: 贫困发生率, formula: poor / pop * 100, decimals: 2 }
  - { id: spend_rate, name: 支出进度, formula: spent / fund * 100, decimals: 1 }
checks:
  - id: counts_add_up
    hierarchy: [pop, poor]
    children: complete
  - id: identity
    rule: reg == poor + out
  - id: balance
    rule: balance == fund - spent
  - id: households_reported
    required: [households]
    level: village
  - id: visits_outliers
    outliers: [visits]
    threshold: 3.5
  - id: calls_jumps
    outliers: [calls]
    threshold: 100000
    jump: { max_ratio: 3 }
"""


def r1(x):
    """Rounds a Fraction or Decimal half away from zero to one decimal."""
    d = Decimal(x.numerator) / Decimal(x.denominator) if isinstance(x, Fraction) else Decimal(x)
    return d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rn(x, places):
    q = Decimal(1).scaleb(-places)
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return d.quantize(q, rounding=ROUND_HALF_UP)


def build(seed):
    rng = random.Random(seed)
    nodes = []  # (code, name, level, parent)

    def node(code, name, level, parent):
        nodes.append((code, name, level, parent))
        return code

    root = node("R", "市%d" % seed, "city", "")
    villages_of = {}  # parent -> villages
    towns_of = {}
    counties = []
    for c in range(rng.randint(3, 4)):
        county = node("R%d" % c, "县%d" % c, "county", root)
        counties.append(county)
        towns_of[county] = []
        villages_of[county] = []
        for t in range(rng.randint(2, 4)):
            town = node("R%dT%d" % (c, t), "镇%d-%d" % (c, t), "town", county)
            towns_of[county].append(town)
            villages_of[town] = [node("R%dT%dV%d" % (c, t, v), "村%d-%d-%d" % (c, t, v),
                                      "village", town)
                                 for v in range(rng.randint(3, 6))]
        for v in range(rng.randint(0, 2)):
            villages_of[county].append(node("R%dV%d" % (c, v), "直属村%d-%d" % (c, v), "village",
                                            county))
    villages = [n[0] for n in nodes if n[2] == "village"]
    children = {}
    for code, _, _, p in nodes:
        if p:
            children.setdefault(p, []).append(code)
    return rng, nodes, villages, children, root, counties, towns_of, villages_of


def generate(seed, inject):
    rng, nodes, villages, children, root, counties, towns_of, villages_of = build(seed)
    publishers = [n[0] for n in nodes if n[2] != "village"]
    sparse = towns_of[counties[0]][0]

    def below(code):
        """Villages in the subtree of code."""
        if code not in children:
            return [code]
        out = []
        for c in children[code]:
            out += below(c)
        return out

    # True village values per month.
    true = {}  # (village, month) -> dict
    static = {}
    for v in villages:
        pop = rng.randint(300, 3000)
        static[v] = {
            "pop": pop,
            "calls": rng.randint(100, 110),
            "households": rng.randint(80, 900),
            "trained": rng.randint(0, 20),
        }
    # visits: each town's villages an arithmetic progression centred on
    # 100 (step 2); villages on a county exactly 100. Every town's mean,
    # every county's mean, is then 100: no sibling stands out anywhere.
    visits = {}
    for p, vs in villages_of.items():
        if p in towns_of:  # a county: its direct villages
            for v in vs:
                visits[v] = 100
        else:
            n = len(vs)
            order = list(range(n))
            rng.shuffle(order)
            for k, v in zip(order, vs):
                visits[v] = 100 + 2 * k - (n - 1)
    trained = {}
    for v in villages:
        t = static[v]["trained"]
        for m in MONTHS:
            t += rng.randint(0, 5)
            trained[(v, m)] = t
    for v in villages:
        for m in MONTHS:
            pop = static[v]["pop"]
            poor = rng.randint(0, pop // 10)
            out = rng.randint(0, 50)
            fund = Fraction(rng.randint(50000, 200000), 1000)
            spent = fund * Fraction(rng.randint(300, 900), 1000)
            spent = Fraction(round(spent * 1000), 1000)
            true[(v, m)] = {
                "pop": pop, "poor": poor, "out": out, "reg": poor + out,
                "exits": rng.randint(0, 9), "fund": fund, "spent": spent,
                "balance": fund - spent,
                "share": Fraction(rng.randint(400, 600), 10),
                "trained": trained[(v, m)], "households": static[v]["households"],
                "visits": visits[v], "calls": static[v]["calls"],
            }

    # Records as printed: villages report everything; publishers publish
    # their totals and shares.
    rec = {}  # (code, indicator, period) -> text ("" = empty cell)

    def put(code, ind, per, value):
        rec[(code, ind, per)] = value

    exact_inds = ["pop", "poor", "reg", "out", "exits", "trained", "households", "visits",
                  "calls"]
    for v in villages:
        for m in MONTHS:
            t = true[(v, m)]
            for ind in exact_inds:
                put(v, ind, m, str(t[ind]))
            for ind in ["fund", "spent", "balance", "share"]:
                put(v, ind, m, str(r1(t[ind])))
    published = {}  # (code, month) -> dict of published numbers (exact / Decimal)
    for p in publishers:
        vs = below(p)
        for m in MONTHS:
            pop = sum(true[(v, m)]["pop"] for v in vs)
            poor = sum(true[(v, m)]["poor"] for v in vs)
            out = sum(true[(v, m)]["out"] for v in vs)
            fund = sum(true[(v, m)]["fund"] for v in vs)
            spent = sum(true[(v, m)]["spent"] for v in vs)
            pub = {"pop": pop, "poor": poor, "out": out, "reg": poor + out,
                   "fund": r1(fund), "spent": r1(spent), "balance": r1(fund - spent),
                   "incidence": rn(Fraction(poor * 100, pop), 2),
                   "spend_rate": r1(spent / fund * 100)}
            published[(p, m)] = pub
            for ind, val in pub.items():
                # One town publishes no amounts, only its spend rate: its
                # operands are the sums of its villages' printed amounts.
                if p == sparse and ind in ("fund", "spent", "balance"):
                    continue
                put(p, ind, m, str(val))
    # Villages publish shares too, half of them.
    village_shares = [v for v in villages if rng.random() < 0.5]
    for v in village_shares:
        for m in MONTHS:
            t = true[(v, m)]
            put(v, "incidence", m, str(rn(Fraction(t["poor"] * 100, t["pop"]), 2)))
            put(v, "spend_rate", m, str(r1(t["spent"] / t["fund"] * 100)))

    # Targets for exits 2019: every town a target, a county the sum of its
    # towns', the root the sum of the counties'.
    targets = {}
    for c in counties:
        total = 0
        for t in towns_of[c]:
            targets[t] = rng.randint(50, 500)
            total += targets[t]
        targets[c] = total
    targets[root] = sum(targets[c] for c in counties)

    expected = set()
    if inject:
        expected |= inject_errors(rng, rec, published, villages, publishers, counties, towns_of,
                                  villages_of, targets, sparse)
    expected |= predicted_warnings(rec, below)
    return nodes, rec, targets, expected


def predicted_warnings(rec, below):
    """spend_rate values the printed operands explain only within their
    rounding: |r - v| > 0.05 where v = spent / fund * 100 from the printed
    values, but [r - 0.05, r + 0.05] meets the interval of the operands.
    A region that printed no amounts takes its villages' sums, each
    +-0.05 per village; with a village's amount missing it is not judged."""
    out = set()
    u = Fraction(1, 20)

    def amount(code, ind, per):
        if (code, ind, per) in rec:
            return Fraction(Decimal(rec[(code, ind, per)])), Fraction(1, 20)
        vs = below(code)
        if any((v, ind, per) not in rec for v in vs):
            return None, None
        return sum(Fraction(Decimal(rec[(v, ind, per)])) for v in vs), Fraction(len(vs), 20)

    for (code, ind, per), text in rec.items():
        if ind != "spend_rate" or text == "":
            continue
        r = Fraction(Decimal(text))
        s, hs = amount(code, "spent", per)
        f, hf = amount(code, "fund", per)
        if s is None or f is None:
            continue
        v = s / f * 100
        if abs(r - v) <= u:
            continue
        lo = (s - hs) / (f + hf) * 100
        hi = (s + hs) / (f - hf) * 100
        if r + u < lo or r - u > hi:
            continue  # an error: only injected ones may be
        out.add(("recomputed", "warning", code, "spend_rate", per))
    return out


def inject_errors(rng, rec, published, villages, publishers, counties, towns_of, villages_of,
                  targets, sparse):
    exp = set()
    towns = [t for c in counties for t in towns_of[c]]
    town_villages = [v for t in towns for v in villages_of[t]]

    # hierarchy: a town's published pop, with its incidence republished
    # from that pop (the publisher is consistent with itself).
    t = rng.choice(towns)
    m = rng.choice(MONTHS)
    pub = published[(t, m)]
    pub["pop"] += 7
    rec[(t, "pop", m)] = str(pub["pop"])
    rec[(t, "incidence", m)] = str(rn(Fraction(pub["poor"] * 100, pub["pop"]), 2))
    exp.add(("counts_add_up", "error", t, "pop", m))
    # ... and a county's poor, with its reg and incidence kept consistent.
    c = rng.choice(counties)
    m = rng.choice(MONTHS)
    pub = published[(c, m)]
    pub["poor"] += 3
    pub["reg"] += 3
    rec[(c, "poor", m)] = str(pub["poor"])
    rec[(c, "reg", m)] = str(pub["reg"])
    rec[(c, "incidence", m)] = str(rn(Fraction(pub["poor"] * 100, pub["pop"]), 2))
    exp.add(("counts_add_up", "error", c, "poor", m))

    # rule identity: a village's out, and a town's published out.
    v = rng.choice(villages)
    m = rng.choice(MONTHS)
    rec[(v, "out", m)] = str(int(rec[(v, "out", m)]) + 2)
    exp.add(("identity", "error", v, None, m))
    t = rng.choice(towns)
    m = rng.choice(MONTHS)
    rec[(t, "out", m)] = str(int(rec[(t, "out", m)]) - 1)
    exp.add(("identity", "error", t, None, m))

    # rule balance: 0.4 off is beyond the 0.15 the rounding of three
    # one-decimal amounts allows.
    v = rng.choice(villages)
    m = rng.choice(MONTHS)
    rec[(v, "balance", m)] = str(Decimal(rec[(v, "balance", m)]) + Decimal("0.4"))
    balance_injected = (v, m)
    exp.add(("balance", "error", v, None, m))

    # bounds: a negative flow, a share above 100.
    v = rng.choice(villages)
    m = rng.choice(MONTHS)
    rec[(v, "exits", m)] = "-5"
    exp.add(("bounds", "error", v, "exits", m))
    v = rng.choice(villages)
    m = rng.choice(MONTHS)
    rec[(v, "share", m)] = "100.4"
    exp.add(("bounds", "error", v, "share", m))

    # recomputed: a published incidence 0.03 off; one truncated instead of
    # rounded; a spend rate 2.0 off.
    used = set()
    p = rng.choice(publishers)
    m = rng.choice(MONTHS)
    used.add((p, m))
    rec[(p, "incidence", m)] = str(Decimal(rec[(p, "incidence", m)]) + Decimal("0.03"))
    exp.add(("recomputed", "error", p, "incidence", m))
    candidates = []
    for (code, ind, per), text in rec.items():
        if ind != "incidence" or (code, per) in used:
            continue
        v_exact = Fraction(int(rec[(code, "poor", per)]) * 100, int(rec[(code, "pop", per)]))
        scaled = v_exact * 100
        frac = scaled - (scaled.numerator // scaled.denominator)
        if frac > Fraction(1, 2):
            candidates.append((code, per, v_exact))
    candidates.sort()
    code, per, v_exact = rng.choice(candidates)
    used.add((code, per))
    cut = Fraction((v_exact * 100).numerator // (v_exact * 100).denominator, 100)
    rec[(code, "incidence", per)] = str(rn(cut, 2))
    exp.add(("recomputed", "error", code, "incidence", per))
    truncated = (code, per)
    p = rng.choice(publishers)
    m = rng.choice(MONTHS)
    rec[(p, "spend_rate", m)] = str(Decimal(rec[(p, "spend_rate", m)]) + Decimal("2.0"))
    spend_injected = (p, m)
    exp.add(("recomputed", "error", p, "spend_rate", m))

    # monotonic: a year-to-date figure below the month before.
    v = rng.choice(villages)
    k = rng.randint(1, len(MONTHS) - 1)
    prev = int(rec[(v, "trained", MONTHS[k - 1])])
    rec[(v, "trained", MONTHS[k])] = str(prev - rng.randint(1, 3))
    exp.add(("monotonic", "error", v, "trained", MONTHS[k]))

    # completeness: no record, and an empty cell.
    a, b = rng.sample(villages, 2)
    m1, m2 = rng.choice(MONTHS), rng.choice(MONTHS)
    del rec[(a, "households", m1)]
    rec[(b, "households", m2)] = ""
    exp.add(("households_reported", "error", a, "households", m1))
    exp.add(("households_reported", "error", b, "households", m2))

    # outlier: one village of a town, in one month, far from its siblings.
    v = rng.choice(town_villages)
    m_outlier = rng.choice(MONTHS)
    rec[(v, "visits", m_outlier)] = "1100"
    exp.add(("visits_outliers", "error", v, "visits", m_outlier))

    # Gaps that must not raise anything: a village without `out` (the
    # identity cannot be evaluated there; its town published its own), one
    # without `visits` in another month (its town's mean is partial and is
    # not set against whole ones), one without `calls` in the last month
    # (its town's total then covers fewer villages than the month before:
    # no jump is read into that).
    v = rng.choice([x for x in villages if ("identity", "error", x, None, MONTHS[0]) not in exp])
    del rec[(v, "out", MONTHS[0])]
    v = rng.choice(town_villages)
    m = rng.choice([x for x in MONTHS if x != m_outlier])
    del rec[(v, "visits", m)]

    # jump: five times last month's calls, in the last month (so there is
    # no jump back); one village per town at most. Then a village whose
    # last-month calls are missing.
    jumped = []
    for t in rng.sample(towns, min(2, len(towns))):
        v = rng.choice(villages_of[t])
        m = MONTHS[-1]
        rec[(v, "calls", m)] = str(5 * int(rec[(v, "calls", m)]))
        exp.add(("calls_jumps", "error", v, "calls", m))
        jumped.append(v)
    v = rng.choice([x for x in town_villages if x not in jumped])
    del rec[(v, "calls", MONTHS[-1])]
    # A village of the town that prints no amounts, without its fund in a
    # month: the town's fund is then partial, and neither its spend rate
    # nor its balance identity is judged on it (spent / fund over fewer
    # villages would be far off).
    m = rng.choice([x for x in MONTHS if (sparse, x) != spend_injected])
    w = rng.choice([x for x in villages_of[sparse] if (x, m) != balance_injected])
    del rec[(w, "fund", m)]

    # targets: a county whose towns' targets fall short of its own.
    c = rng.choice(counties)
    targets[towns_of[c][0]] -= 10
    exp.add(("targets", "error", c, "exits", "2019"))
    inject_errors.truncated = truncated
    return exp


def write_inputs(d, nodes, rec, targets):
    with open(os.path.join(d, "h.csv"), "w", encoding="utf-8") as f:
        f.write("code,name,level,parent_code\n")
        for code, nm, level, p in nodes:
            f.write("%s,%s,%s,%s\n" % (code, nm, level, p))
    with open(os.path.join(d, "d.yaml"), "w", encoding="utf-8") as f:
        f.write("levels: [province, city, county, town, village]\n")
        f.write(DEFINITIONS)
    with open(os.path.join(d, "r.csv"), "w", encoding="utf-8") as f:
        f.write("region_code,indicator,period,value\n")
        for (code, ind, per), text in sorted(rec.items()):
            f.write("%s,%s,%s,%s\n" % (code, ind, per, text))
    with open(os.path.join(d, "t.csv"), "w", encoding="utf-8") as f:
        f.write("region_code,indicator,year,target\n")
        for code, value in sorted(targets.items()):
            f.write("%s,exits,2019,%d\n" % (code, value))


def run_tally(tally, d):
    p = subprocess.run([tally, "check", "-H", os.path.join(d, "h.csv"), "-d",
                        os.path.join(d, "d.yaml"), "-r", os.path.join(d, "r.csv"), "-t",
                        os.path.join(d, "t.csv"), "--format", "json"],
                       capture_output=True, text=True, encoding="utf-8")
    if p.returncode not in (0, 1):
        sys.exit("tally check failed (%d): %s" % (p.returncode, p.stderr))
    rows = json.loads(p.stdout)
    got = set()
    for r in rows:
        # The formula gaps (a village with some operands and not others)
        # are the coverage check's, tested on the demo's nine known gaps
        # (check-cli.py) and by hand (tests/python/test_coverage.py); this
        # model does not make them.
        if r["check"] == "coverage":
            continue
        got.add((r["check"], r["severity"], r["region_code"], r["indicator"], r["period"]))
    return got, rows, p.returncode, p.stderr


def main():
    tally = sys.argv[1]
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    failures = 0
    totals = {"errors": 0, "warnings": 0}
    kinds = set()
    for seed in range(1, seeds + 1):
        for inject in (False, True):
            nodes, rec, targets, expected = generate(seed, inject)
            with tempfile.TemporaryDirectory() as d:
                write_inputs(d, nodes, rec, targets)
                got, rows, status, stderr = run_tally(tally, d)
            if got != expected:
                failures += 1
                print("seed %d (%s): findings differ" % (seed, "injected" if inject else "clean"))
                for x in sorted(expected - got, key=str):
                    print("  missed:     ", x)
                for x in sorted(got - expected, key=str):
                    print("  unexpected: ", x)
                    for r in rows:
                        if (r["check"], r["severity"], r["region_code"], r["indicator"],
                                r["period"]) == x:
                            print("     ", r["message"])
                continue
            want_status = 1 if any(x[1] == "error" for x in expected) else 0
            if status != want_status:
                failures += 1
                print("seed %d: exit status %d, expected %d" % (seed, status, want_status))
            if inject:
                code, per = inject_errors.truncated
                msg = [r["message"] for r in rows if r["region_code"] == code and
                       r["period"] == per and r["indicator"] == "incidence"]
                if len(msg) != 1 or "truncated instead of rounded" not in msg[0]:
                    failures += 1
                    print("seed %d: truncation not named: %s" % (seed, msg))
                totals["errors"] += sum(1 for x in got if x[1] == "error")
                kinds |= {x[0] for x in got}
            totals["warnings"] += sum(1 for x in got if x[1] == "warning")
    print("%d seeds: %d injected errors found, nothing else; %d rounding warnings predicted "
          "and found, no rounding error; checks covered: %s" %
          (seeds, totals["errors"], totals["warnings"], ", ".join(sorted(kinds))))
    if failures:
        sys.exit("%d failures" % failures)


if __name__ == "__main__":
    main()
