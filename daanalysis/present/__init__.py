"""Words, tables, charts and the page: what notebooks import."""
