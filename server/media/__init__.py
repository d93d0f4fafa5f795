"""Clip rendering: exact cuts, reframing, captions and audio, each in its own module."""
