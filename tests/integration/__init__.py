"""Tests that start real servers or subprocesses."""
