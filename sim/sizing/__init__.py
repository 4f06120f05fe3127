"""Storage sizing with the controller that will actually run: candidates replayed in closed
loop on Dask, with economics, the perfect-foresight bound and a recommendation."""
