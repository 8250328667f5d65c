"""Evaluate, invert and optimize the quantity graph, and explain the answers."""
