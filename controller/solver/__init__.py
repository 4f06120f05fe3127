"""Solving the compiled model: the compile cache, the parametric LP data, the kept HiGHS
instances, single-entry rows as column bounds, and extraction of the solution."""
