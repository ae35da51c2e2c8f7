"""Unit tests of the command line (`ui.cli`): its plain text and its log lines."""
