#!/usr/bin/env python3
"""Chart how far each 岳阳市 county is with its 2019 exit target as of
August, against the share of the year that has passed.

Draws a PNG with matplotlib when it is installed; otherwise writes the
library's own SVG chart.

Usage: completion_chart.py [OUTPUT] [DATA_DIR]   (default: completion.png or .svg)
"""
import pathlib
import sys

import tally

data = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                    pathlib.Path(__file__).resolve().parent.parent / "data")

d = tally.Definitions.from_yaml(data / "yueyang.yaml")
h = tally.Hierarchy.from_csv(data / "yueyang-hierarchy.csv", definitions=d)
ds = tally.Dataset(h, d)
ds.read_records(data / "yueyang-2019.csv")
progress = ds.progress_result(data / "yueyang-targets-2019.csv", as_of="2019-08")
rows = progress.rows(level="county", indicator="exited_population")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    out = sys.argv[1] if len(sys.argv) > 1 else "completion.svg"
    progress.write_svg(out, level="county", indicator="exited_population")
    print(f"matplotlib is not installed: wrote the library's SVG chart to {out}")
    sys.exit(0)

out = sys.argv[1] if len(sys.argv) > 1 else "completion.png"
rows = sorted((r for r in rows if r["completion"] is not None), key=lambda r: r["completion"])
colours = {"done": "#2a9d8f", "ahead": "#8ab17d", "behind": "#e76f51"}
# Region names are Chinese: label with them when a CJK font is installed,
# else with the codes.
from matplotlib import font_manager
cjk = [f.name for f in font_manager.fontManager.ttflist
       if any(k in f.name for k in ("CJK", "WenQuanYi", "Hei", "Song", "Ming"))]
if cjk:
    plt.rcParams["font.sans-serif"] = [cjk[0]] + plt.rcParams["font.sans-serif"]
labels = [f"{r['region_name']} {r['region_code'][:6]}" if cjk else r["region_code"][:6]
          for r in rows]
fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
ax.barh(labels,
        [r["completion"] for r in rows], color=[colours.get(r["status"], "grey") for r in rows])
time_progress = rows[0]["time_progress"] if rows else 100 * 8 / 12
ax.axvline(time_progress, color="black", linestyle="--", linewidth=1)
ax.text(time_progress, -0.75, f" time progress {time_progress:.2f} %", va="center")
ax.set_xlabel("completion of the 2019 exit target, %")
ax.set_title("Exits as of 2019-08, by county")
fig.tight_layout()
fig.savefig(out, dpi=120)
print(f"wrote {out}: {len(rows)} counties, "
      f"{sum(r['status'] == 'behind' for r in rows)} behind the time progress")
