"""The HTML report of any output folder: its inputs checked against their schemas and digests, then one
self-contained page from the template."""
