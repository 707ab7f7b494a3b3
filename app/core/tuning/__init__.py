"""Tuning: one-factor-at-a-time sweeps, budget-ceiling diagnosis and their analysis."""
