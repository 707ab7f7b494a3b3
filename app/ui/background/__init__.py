"""Work off the GUI thread: blocking calls, run preparation and the engine event bridge."""
