"""Transports: running commands and moving files, on this machine (local) or another (ssh), and sync."""
