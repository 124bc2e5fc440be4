"""Pure statistics with typed results: no HTML, no matplotlib."""
