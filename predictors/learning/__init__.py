"""Learning models of repeated play: EWA (Camerer & Ho, 1999), its special cases and self-tuning EWA.

``ewa`` holds the attraction arithmetic, ``data`` turns decision points into arrays, ``predictor``
the cross-fitted predictors registered as ``ewa``, ``reinforcement``, ``fictitious-play`` and
``self-tuning-ewa``.
"""

from predictors.learning.ewa import (Histories, ewa_attractions, ewa_path, log_choice_probs, self_tuning_attractions,
                                     self_tuning_path)
from predictors.learning.predictor import (EWAPredictor, FictitiousPlayPredictor, ReinforcementPredictor,
                                           SelfTuningEWAPredictor)

__all__ = ["Histories", "ewa_attractions", "ewa_path", "self_tuning_attractions", "self_tuning_path",
           "log_choice_probs", "EWAPredictor", "ReinforcementPredictor", "FictitiousPlayPredictor",
           "SelfTuningEWAPredictor"]
