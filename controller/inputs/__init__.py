"""What a plan starts from: the site's layout, the forecast's data, the measured state and
the plain arrays of one planning step (:class:`DispatchInputs`)."""
