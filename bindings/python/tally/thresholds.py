"""Exit thresholds: each region's rolled-up values against its level's threshold."""

import ctypes
from ctypes import c_size_t

from ._common import opt, select_levels
from ._lib import TH, ThresholdStatus, ThresholdsOptions, lib
from ._rows import Rows
from .definitions import find_indicator, indicator_tables
from .hierarchy import node_tables

THRESHOLD_COLUMNS = ("region_code", "region_name", "level", "period", "indicator", "value",
                     "threshold", "meets_threshold", "margin")


def thresholds(result, indicators=None, level=None):
    """Exit thresholds judged on a rollup (see Result.thresholds)."""
    r = result._ptr
    dptr = result._d
    opts = ThresholdsOptions(ThresholdsOptions.VERSION, None, 0)
    if indicators is not None:
        ids = [indicators] if isinstance(indicators, str) else list(indicators)
        arr = (c_size_t * len(ids))(*[find_indicator(dptr, x) for x in ids])
        opts.indicators, opts.indicator_count = arr, len(ids)
    t = TH()
    lib.tally_poverty_thresholds(ctypes.byref(t), r, ctypes.byref(opts))
    try:
        codes, names, levels, level_names = node_tables(result._hh)
        ids, decimals, units = indicator_tables(result._dh)
        want = select_levels(result._h, level)
        nk = lib.tally_thresholds_indicator_count(t)
        inds = [lib.tally_thresholds_indicator(t, k) for k in range(nk)]
        periods = [lib.tally_thresholds_period(t, q).decode()
                   for q in range(lib.tally_thresholds_period_count(t))]
        st = ThresholdStatus()
        out = Rows(columns=THRESHOLD_COLUMNS)
        for node in range(len(codes)):
            if want is not None and levels[node] not in want:
                continue
            for k in range(nk):
                for q, period in enumerate(periods):
                    lib.tally_thresholds_status(t, node, k, q, ctypes.byref(st))
                    out.append({"region_code": codes[node], "region_name": names[node],
                                "level": level_names[levels[node]], "period": period,
                                "indicator": ids[inds[k]], "value": opt(st.value),
                                "threshold": opt(st.threshold),
                                "meets_threshold": ("incomplete" if st.meets == -2 else
                                                    None if st.meets < 0 else bool(st.meets)),
                                "margin": opt(st.margin)})
        return out
    finally:
        lib.tally_thresholds_free(t)
