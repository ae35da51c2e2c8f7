"""Tests for the inbox agent."""
