"""Unit tests for mail parsing and the mailbox sources."""
