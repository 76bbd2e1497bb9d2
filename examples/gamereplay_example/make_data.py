"""Write ``gamereplay_example/stag_hunt.csv``: a MADE-UP repeated stag hunt (no real people played it).

20 simulated "participants" x 10 rounds, each against a computer partner that plays
tit-for-tat (starting with Stag) and trembles 10% of the time.  The participants are a
made-up mix of three kinds (win-stay/lose-shift with aspiration 8, tit-for-tat, and a
coin biased 60% to Stag), each trembling 10%, so that the example's predictors have
something to tell apart.  Seeded: running it again writes the same bytes.

    python examples/gamereplay_example/make_data.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

PAYOFF = {("S", "S"): 10, ("S", "H"): 0, ("H", "S"): 8, ("H", "H"): 8}  # the row player's points (stag_hunt.yaml)
OTHER = {"S": "H", "H": "S"}
PARTICIPANTS, ROUNDS, TREMBLE = 20, 10, 0.1
OUT = Path(__file__).resolve().parent / "gamereplay_example" / "stag_hunt.csv"


def _intended(kind: str, rng: random.Random, mine: list[str], theirs: list[str], payoffs: list[int]) -> str:
    if not mine:
        return "S" if kind != "coin" or rng.random() < 0.6 else "H"
    if kind == "wsls":
        return mine[-1] if payoffs[-1] >= 8 else OTHER[mine[-1]]
    if kind == "tft":
        return theirs[-1]
    return "S" if rng.random() < 0.6 else "H"


def _noisy(move: str, rng: random.Random) -> str:
    return rng.choice("SH") if rng.random() < TREMBLE else move


def rows(seed: int = 1993) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(PARTICIPANTS):
        kind = ("wsls", "tft", "coin")[i % 3]
        mine: list[str] = []
        theirs: list[str] = []
        payoffs: list[int] = []
        for r in range(1, ROUNDS + 1):
            me = _noisy(_intended(kind, rng, mine, theirs, payoffs), rng)
            partner = _noisy(mine[-1] if mine else "S", rng)  # the computer partner: tit-for-tat
            mine.append(me)
            theirs.append(partner)
            payoffs.append(PAYOFF[me, partner])
            out.append({"participant": f"p{i + 1:02d}", "round": r, "choice": me, "partner_choice": partner,
                        "payoff": payoffs[-1]})
    return out


def main() -> None:
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["participant", "round", "choice", "partner_choice", "payoff"])
        writer.writeheader()
        writer.writerows(rows())
    print(f"wrote {OUT} ({PARTICIPANTS} made-up participants x {ROUNDS} rounds)")


if __name__ == "__main__":
    main()
