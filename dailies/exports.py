"""CSV exports that a spreadsheet opens as data: every CSV the app writes goes through `safe_csv`.

A prompt, note, tag or reviewer name is people's text. Opened in Excel, LibreOffice or Google Sheets, a
cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula
(`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`, `@SUM(1)`, even `-2+3`): "CSV injection". Such a cell is
written with a leading `'`, which the spreadsheets take as "this is text" (OWASP's advice).

Only text is neutralised: a column of numbers (a cost, stars, a negative effect) holds numbers and is
written as numbers, so sums and charts still work. A string cell is text whatever it looks like, so
an axis value typed as "-5" is exported as `'-5` (text it was, text it stays). Column names get the
same treatment, since a grid's axis names are typed by people too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's list)."""


def neutralise(value: Any) -> Any:
    """`value` as a spreadsheet reads it as written: a string that starts a formula gets a leading `'`;
    anything that is not a string (a number, a date, a missing value) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV text (no index) in which no text cell or column name can run as a formula."""
    safe = frame.copy()
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    for column in range(safe.shape[1]):
        series = safe.iloc[:, column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)):
            safe.isetitem(column, series.map(neutralise))
    # RFC 4180's line ends: a cell holding a bare "\r" is then quoted, not read back as the end of a row.
    return safe.to_csv(index=False, lineterminator="\r\n")
