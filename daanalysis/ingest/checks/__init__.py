"""Checks across the rows and tables of a loaded extract (after each table is read): each
module one kind of check, each check excluding rows or noting them in the ledger, or stopping the
load with a :class:`~daanalysis.ingest.extract.DataContractError`."""
