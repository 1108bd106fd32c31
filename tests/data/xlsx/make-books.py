#!/usr/bin/python3
"""Makes a.xlsx and b.xlsx, the two workbooks that tests/test-xlsx_read.c
reads in two threads at once (run once; the files are kept). Each is a
small hierarchy whose last row repeats a code, so that its read fails at a
cell of its own:

- a.xlsx, sheet 甲: code,name; the code of row 4 (A4) repeats row 3's;
- b.xlsx, sheet 乙: name,code; row 2's name has a line break in it (the
  sheet's row 2 is two lines of CSV text), and the code of row 4 (B4, on
  line 5 of the text) repeats row 2's.

Placed with the other workbook's rows, or as plain text, the errors would
be at other places (A3; B5, or line 5)."""
import os
import zipfile

import openpyxl


def book(path, title, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save("tmp.xlsx")
    # The theme is not read; the fixtures stay small.
    with zipfile.ZipFile("tmp.xlsx") as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/theme/theme1.xml":
                data = src.read(item.filename)
                if item.filename == "xl/_rels/workbook.xml.rels":
                    data = data.replace(b'<Relationship Id="rId2" Type="http://schemas.'
                                        b'openxmlformats.org/officeDocument/2006/relationships/'
                                        b'theme" Target="theme/theme1.xml"/>', b"")
                dst.writestr(item, data)
    os.remove("tmp.xlsx")


book("a.xlsx", "甲", [["code", "name"], ["430000000000", "湖南省"], ["430600000000", "岳阳市"],
                     ["430600000000", "岳阳市二"]])
book("b.xlsx", "乙", [["name", "code"], ["湖南\n省", "430000000000"], ["岳阳市", "430600000000"],
                     ["重复", "430000000000"]])
