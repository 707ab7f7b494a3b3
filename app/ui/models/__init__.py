"""Qt item models and the run state they present."""
