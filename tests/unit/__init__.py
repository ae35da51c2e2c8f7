"""Unit tests: no network, no sockets, no subprocesses."""
