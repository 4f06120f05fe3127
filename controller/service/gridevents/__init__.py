"""Grid events from the utility: import and export caps and target exchange profiles over a
window, honoured by the park's plans as per-interval connection limits and by the connection
point's import- and export-limit setpoints, with their outcome on record."""
