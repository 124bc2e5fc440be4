"""Files to a checked extract: the data contract, reading, parsing, checks and the ledger.

In the order a load runs (:func:`daanalysis.ingest.load.load_extract` calls them):

- ``schema``: the data contract, table by table (columns, types, pandera checks);
- ``folder``: which files of the data folder are read, and every other file accounted for;
- ``vintage``: the VINTAGE line and the extract date;
- ``table``: one table's file to its used rows and ledger, through ``read`` (a file to raw text
  columns), ``workbook`` (what an XLSX hides), ``header`` (the header row) and ``parse`` (dates,
  periods, numbers, read one way only);
- ``checks``: plausibility across rows and tables (areas, series, staffing, partnership,
  record-level months);
- ``clean``: canonical labels, duplicates and pseudonymised client keys;
- ``ledger``: every input row as used or excluded, with its reason;
- ``extract``: what a load gives (:class:`~daanalysis.ingest.extract.Extract`) and its error;
- ``contract``: ``docs/data-contract.md`` written from ``schema``.
"""
