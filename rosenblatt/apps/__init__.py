"""Applications built on Rosenblatt."""
