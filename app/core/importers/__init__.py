"""Converters that turn published benchmark data into AgentGap suites."""
