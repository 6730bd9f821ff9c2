"""Models of the oauth app."""
