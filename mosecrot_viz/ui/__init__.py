"""Shared Streamlit pieces: cached loaders and key-prefixed render helpers. Pages stay thin."""
