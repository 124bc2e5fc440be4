"""The quarterly run: notebooks executed, exported, the site, downloads and PDFs."""
