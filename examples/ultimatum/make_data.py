"""Write responses.csv: MADE-UP ultimatum-game responder data for the README's worked example.

Not real people.  40 simulated responders each answer 8 one-shot offers out of a stake of 10 points;
a responder accepts with a probability that rises with the share offered (a logistic curve with a
personal threshold), the qualitative pattern of real ultimatum games (Güth, Schmittberger &
Schwarze, 1982; Camerer, 2003): offers near half are accepted, offers below ~20% are often rejected.
Run ``python make_data.py`` to regenerate the file (seeded, so it is byte-identical).
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

STAKE = 10
OFFERS = [1, 2, 3, 4, 5, 1, 2, 3]  # each responder sees these offers in a personal random order


def main(path: Path = Path(__file__).with_name("responses.csv")) -> None:
    rng = random.Random(2026)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["subject", "trial", "stake", "offer", "choice"])
        for subject in range(1, 41):
            threshold = rng.gauss(0.25, 0.08)  # the share below which this person tends to reject
            offers = OFFERS[:]
            rng.shuffle(offers)
            for trial, offer in enumerate(offers, start=1):
                p_accept = 1 / (1 + math.exp(-(offer / STAKE - threshold) * 25))
                w.writerow([f"s{subject:02d}", trial, STAKE, offer, "A" if rng.random() < p_accept else "R"])


if __name__ == "__main__":
    main()
