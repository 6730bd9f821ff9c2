"""Export and import of an integration with its converters and rule chains, as one JSON package
(issue 21 item 7): secrets left out, listed, and asked for on import."""
