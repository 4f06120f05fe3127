"""The dispatch LP, one module per group of asset families; :func:`build.build_model`
assembles it."""
