#!/usr/bin/env python3
"""Roll the 岳阳市 demo up and look at the counties as a pandas DataFrame.

Usage: rollup_to_dataframe.py [DATA_DIR]   (default: examples/data)
"""
import pathlib
import sys

import tally

data = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                    pathlib.Path(__file__).resolve().parent.parent / "data")

d = tally.Definitions.from_yaml(data / "yueyang.yaml")
h = tally.Hierarchy.from_csv(data / "yueyang-hierarchy.csv", definitions=d)
ds = tally.Dataset(h, d)
ds.read_records(data / "yueyang-2019.csv")

df = ds.rollup(periods=["2019"]).to_pandas(level=["city", "county"])
table = df.pivot(index=["region_code", "region_name"], columns="indicator", values="value")
table = table[d.ids]  # indicators in definition order
# Print each indicator with its declared decimals, as the tally program does.
formatters = {i.id: (lambda v, n=i.decimals: tally.format_number(v, n)) for i in d}
print(table.to_string(formatters=formatters))
