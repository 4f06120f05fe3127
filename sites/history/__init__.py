"""Raw material for each bundled park's historical year.

- `extract`: the bundled SimBench 2016 benchmark-profile extract and its loader.
- `build_extract`: the script that rebuilds that extract from the `simbench` package.
- `solar`: re-shapes a measured German PV profile to a park's sun and orientation.
- `climate`: a seeded 15-minute ambient temperature series from Liaocheng climate normals.

Nothing is imported here, so importing a submodule stays cheap.
"""
