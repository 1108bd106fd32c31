"""Strings with a NUL refused; a Dataset used from two threads at once raises (issue 23)."""
import threading

import pytest

import tally
from conftest import SMALL_DEFINITIONS, SMALL_HIERARCHY


def small_dataset():
    return tally.Dataset(tally.Hierarchy.from_bytes(SMALL_HIERARCHY),
                         tally.Definitions.from_string(SMALL_DEFINITIONS))


def test_nul_in_a_path_is_value_error(tmp_path):
    p = tmp_path / "records.csv"
    p.write_text("region_code,indicator,period,value\nV1,poor,2019-01,1\n", encoding="utf-8")
    ds = small_dataset()
    # Cut at the NUL, the path would name the file above and read it.
    with pytest.raises(ValueError, match="NUL"):
        ds.read_records(str(p) + "\0x")
    assert ds.value_count == 0
    with pytest.raises(ValueError, match="NUL"):
        tally.Hierarchy.from_csv(str(p) + "\0x")


def test_nul_in_a_code_is_value_error():
    ds = small_dataset()
    # Cut at the NUL, the code would be V1's and the value stored under it.
    with pytest.raises(ValueError, match="NUL"):
        ds.add("V1\0junk", "poor", "2019-01", 5)
    with pytest.raises(ValueError, match="NUL"):
        ds.add("V1", "poor\0x", "2019-01", 5)
    with pytest.raises(ValueError, match="NUL"):
        ds.add("V1", "poor", "2019-01\0", 5)
    assert ds.value_count == 0
    assert ds.reported("V1", "poor", "2019-01") is None


def test_nul_in_a_buffer_is_data_not_refused():
    ds = small_dataset()
    # A buffer is passed with its length: a NUL is a byte of a bad row.
    rejected = ds.read_bytes(b"region_code,indicator,period,value\nV1,poor,2019-01,1\0\n",
                             on_error="collect")
    assert rejected.rows_rejected == 1


def test_a_dataset_used_from_two_threads_at_once_raises():
    ds = small_dataset()
    inside, release = threading.Event(), threading.Event()
    original = tally.dataset.lib.tally_dataset_value_count
    errors = []

    class Slow:
        """value_count's C call, held open until the other thread has tried."""
        def __call__(self, ptr):
            inside.set()
            release.wait(10)
            return original(ptr)

    tally.dataset.lib.tally_dataset_value_count = Slow()
    try:
        t = threading.Thread(target=lambda: ds.value_count)
        t.start()
        assert inside.wait(10)
        try:
            ds.add("V1", "poor", "2019-01", 5)
        except RuntimeError as e:
            errors.append(str(e))
        release.set()
        t.join()
    finally:
        tally.dataset.lib.tally_dataset_value_count = original
    assert errors and "two threads at once" in errors[0]
    # Nothing was added by the refused call; the dataset works afterwards.
    assert ds.value_count == 0
    ds.add("V1", "poor", "2019-01", 5)
    assert ds.reported("V1", "poor", "2019-01") == 5.0


def test_four_threads_adding_lose_nothing_silently():
    ds = small_dataset()
    codes = ["V1", "V2", "V3"]
    periods = [f"{y}-{m:02d}" for y in range(2000, 2020) for m in range(1, 13)]
    added, refused = [], []
    lock = threading.Lock()

    def worker(k):
        for i, p in enumerate(periods):
            if i % 4 != k:
                continue
            for c in codes:
                try:
                    ds.add(c, "poor", p, i)
                except RuntimeError:
                    with lock:
                        refused.append((c, p))
                else:
                    with lock:
                        added.append((c, p, i))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every call either stored its value or raised: none was lost.
    assert len(added) + len(refused) == len(codes) * len(periods)
    assert ds.value_count == len(added)
    for c, p, i in added:
        assert ds.reported(c, "poor", p) == i
