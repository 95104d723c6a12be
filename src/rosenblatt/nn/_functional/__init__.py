"""Implementations behind rosenblatt.nn.functional, grouped by kind."""
