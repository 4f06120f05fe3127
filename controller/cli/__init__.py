"""The `microgrid` command line."""
