"""Models of the signup app."""
