"""Qt models adapting the core's Store (they never own the data)."""
