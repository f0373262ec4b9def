"""The shipped data (the checkout's top-level data/ folder), installed as the package matcher.data."""
