"""Language-model predictors: read next-token probabilities over the decision tokens."""
