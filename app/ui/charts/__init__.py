"""pyqtgraph charts of comparisons and tuning runs."""
