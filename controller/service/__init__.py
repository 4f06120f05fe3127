"""The running controller: scheduler, store, REST API, dashboard and auth.

The only package that knows about HTTP, clocks and databases. Nothing outside it imports it
except the ``microgrid serve`` / ``microgrid keys`` commands, and they do so inside the
command functions. Importing this package has no side effects.
"""
