"""Analysis: metrics over predictions tables, comparisons and reports."""
