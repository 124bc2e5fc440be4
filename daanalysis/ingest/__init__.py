"""Files to a checked extract: the data contract, reading, parsing, checks and the ledger."""
