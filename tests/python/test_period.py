"""tally.Period: the library's period parser, and the paths that use it."""
import pytest

import tally


def test_period__forms():
    p = tally.Period("2019-08")
    assert (p.year, p.kind, p.index, p.first_month, p.last_month) == (2019, "month", 8, 8, 8)
    q = tally.Period("2019-q3")
    assert (q.year, q.kind, q.index, q.first_month, q.last_month) == (2019, "quarter", 3, 7, 9)
    assert str(q) == "2019-Q3" and repr(q) == "Period('2019-Q3')"
    y = tally.Period("2019")
    assert (y.kind, y.index, y.first_month, y.last_month, str(y)) == ("year", 0, 1, 12, "2019")
    assert tally.Period(q) == q == tally.Period("2019-Q3")
    assert len({tally.Period("2019-Q3"), q, y}) == 2


def test_period__order_is_the_results_order():
    texts = ["2019", "2019-Q1", "2018-12", "2019-12", "2019-01", "2020-01", "2019-Q4"]
    assert [str(p) for p in sorted(map(tally.Period, texts))] == \
        ["2018-12", "2019-01", "2019-12", "2019-Q1", "2019-Q4", "2019", "2020-01"]
    assert tally.Period("2019-Q4") < tally.Period("2019") < tally.Period("2020-01")


def test_period__spans_asked_for():
    h = tally.Period("2019-H1")
    assert (h.kind, h.index, h.end, h.first_month, h.last_month, str(h)) == \
        ("half", 1, 0, 1, 6, "2019-H1")
    r = tally.Period("2019-01..2019-08")
    assert (r.kind, r.index, r.end, r.first_month, r.last_month, str(r)) == \
        ("months", 1, 8, 1, 8, "2019-01..2019-08")
    q = tally.Period("2019-q1..2019-Q2")
    assert (q.kind, q.index, q.end, q.first_month, q.last_month, str(q)) == \
        ("quarters", 1, 2, 1, 6, "2019-Q1..2019-Q2")
    assert sorted([tally.Period("2019"), r, h, tally.Period("2019-Q4")]) == \
        [tally.Period("2019-Q4"), h, r, tally.Period("2019")]


@pytest.mark.parametrize("text", ["2019-13", "2019-H3", "2019-08..2019-01", "2018-12..2019-01", "2019-8", "2019-Q5", "999", "10000", "2019 ",
                                  "２０１９-08", "", "2019-W01"])
def test_period__refused_as_the_readers_refuse(text):
    with pytest.raises(tally.ParseError) as info:
        tally.Period(text)
    assert info.value.message == (f"bad period '{text}'; expected YYYY-MM, YYYY-Qn, YYYY, a half "
                                  "YYYY-H1 or YYYY-H2, or a range of one year YYYY-MM..YYYY-MM "
                                  "or YYYY-Qn..YYYY-Qn")
    assert info.value.text == text


def test_period__not_a_string():
    with pytest.raises(TypeError):
        tally.Period(201908)
