"""Predictors: anything that assigns a probability to each legal action of a human decision."""
