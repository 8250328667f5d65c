"""The .infer language: parse, resolve names and imports, check units, build the graph."""
