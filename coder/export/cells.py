"""Cells a spreadsheet opens as text: the one guard against CSV (formula) injection.

Every CSV and XLSX the project writes passes its cells through ``spreadsheet_cell`` (XLSX writers also
store each cell as a string, never a formula). Interview text is data from outside: a speaker named
``=1+2`` or a turn beginning ``=HYPERLINK("http://…","…")`` would otherwise run as a formula when an
analyst opens the file in Excel, LibreOffice Calc or Google Sheets.
"""

from __future__ import annotations

# The first characters that make Excel, Calc and Sheets read a cell as a formula: OWASP, "CSV Injection",
# https://owasp.org/www-community/attacks/CSV_Injection (also OWASP ASVS 5.0, requirement 1.2.10).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """``value`` as a spreadsheet shows it as text: a string that begins with ``=``, ``+``, ``-``, ``@``,
    a tab (0x09) or a carriage return (0x0D) gets a single quote ``'`` in front, as OWASP recommends;
    anything else — other strings, numbers (a negative number stays a number), None — is returned as
    it is.

    Text that only looks harmless is quoted too: ``-``, ``-1`` or ``+81 3 …`` written as text become
    ``'-``, ``'-1`` and ``'+81 3 …``. That is safe, and reversible: a cell that begins with ``'``
    followed by one of those characters had the quote added here (unless the text itself began so).
    Look-alikes that spreadsheets do not read as formulas (``−1`` with U+2212 MINUS SIGN, full-width
    ``＝``) are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_row(row):
    """``spreadsheet_cell`` applied to every value of a row: a list for a list (or any other
    iterable, as ``csv.writer`` takes), a dict with the same keys for a dict (``csv.DictWriter``)."""
    if isinstance(row, dict):
        return {key: spreadsheet_cell(value) for key, value in row.items()}
    return [spreadsheet_cell(value) for value in row]
