"""The demo round (installed as matcher.data.demo)."""
