"""Tables handed back as lists of dicts that also turn into DataFrames."""

from __future__ import annotations

from typing import Any, Dict, Iterable


class Rows(list):
    """A list of dicts, one per row, with the command line's columns in
    order (``columns``). ``to_pandas()`` gives the same table as a
    DataFrame: missing numbers NaN, whole-number columns (``integer_columns``)
    as pandas' nullable Int64."""

    def __init__(self, rows: Iterable[Dict[str, Any]] = (), columns: Iterable[str] = (),
                 integer_columns: Iterable[str] = ()) -> None:
        super().__init__(rows)
        self.columns = tuple(columns)
        self.integer_columns = tuple(integer_columns)

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas (apt-get install python3-pandas or "
                              "pip install pandas); the rows are already a list of dicts") from None
        frame = pd.DataFrame(list(self), columns=list(self.columns))
        for c in self.integer_columns:
            frame[c] = pd.array([row[c] for row in self], dtype="Int64")
        return frame
