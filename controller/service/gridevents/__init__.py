"""Grid events from the utility: import and export caps over a window, honoured by the
park's plans and by the connection point's export limit, with their outcome on record."""
