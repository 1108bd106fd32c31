#!/usr/bin/python3
"""Makes small.xlsx, the fixture of tests/test-xlsx_read.c (run once; the
file is kept). openpyxl writes inline strings and plain numbers; then, as
Excel and other writers store them, two cells become shared strings (one
of two runs with a phonetic reading that is not text) and one number is
put in exponent form."""
import re
import zipfile

import openpyxl

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "数据"
ws.append(["region_code", "name", "value", "note"])
ws.append([430602001001, "郭亮社区", 12.5, "a,b"])
ws.append(["430602001002", 'say "hi"', None, "x"])
ws["A5"] = 430602001004
ws["B5"] = True
other = wb.create_sheet("Other")
other.append(["only", "here"])
wb.save("tmp.xlsx")

with zipfile.ZipFile("tmp.xlsx") as src, zipfile.ZipFile("small.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        data = src.read(item.filename)
        if item.filename == "xl/worksheets/sheet1.xml":
            text = data.decode()
            text, n = re.subn(r'<c r="D3" t="inlineStr"><is><t>x</t></is></c>',
                              '<c r="D3" t="s"><v>0</v></c>', text)
            assert n == 1, "D3"
            text, n = re.subn(r'<c r="D1" t="inlineStr"><is><t>note</t></is></c>',
                              '<c r="D1" t="s"><v>1</v></c>', text)
            assert n == 1, "D1"
            text, n = re.subn(r'(<c r="A5"[^>]*><v>)430602001004(</v>)', r"\g<1>4.30602001004E+11\2", text)
            assert n == 1, "A5"
            data = text.encode()
        if item.filename == "xl/theme/theme1.xml":
            continue  # not read; the fixture stays small
        if item.filename == "xl/_rels/workbook.xml.rels":
            data = data.replace(b'Target="theme/theme1.xml"', b'Target="sharedStrings.xml"').replace(
                b"relationships/theme", b"relationships/sharedStrings")
        if item.filename == "[Content_Types].xml":
            data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                b'sharedStrings+xml"/></Types>')
        dst.writestr(item, data)
    dst.writestr("xl/sharedStrings.xml",
                 '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" '
                 'uniqueCount="2"><si><t>x</t></si><si><r><t>no</t></r><r><t>te</t></r>'
                 '<rPh sb="0" eb="1"><t>ノート</t></rPh></si></sst>')
import os
os.remove("tmp.xlsx")
