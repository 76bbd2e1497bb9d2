"""GLEE persuasion logs: ``round_quality,product_worth,player,round,message,decision``.

Three rows per round: ``Nature`` (``round_quality`` "high-quality"/"low-quality",
``product_worth`` in dollars — "0" or "0.0" for a low-quality product when c is
0), the seller (free text in ``message``, or with binary messages the
recommendation "yes"/"no" in ``decision`` and an empty message), and the buyer
(``decision`` "yes"/"no").  Messages are kept exactly as typed.

Only the buyer's decisions are scored, so a game whose human was the seller loads
(and replays) but yields no decisions; ``extra_stats`` says how many of each.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

from envs.glee.files import GameFileError, config_flag, config_number, number, round_number
from envs.glee.loader import Anomaly, LogFormat
from envs.glee.persuasion.rules import BUYER, SELLER, SIGNAL_ACTIONS, PersuasionRules, worth
from envs.glee.rules import NATURE_SEAT
from envs.glee.text import message_or_none
from envs.records import Event, Trajectory

COLUMNS = ("round_quality", "product_worth", "player", "round", "message", "decision")
NATURE_NAME = "Nature"
QUALITY_LABELS = {"high-quality": "high", "low-quality": "low"}
YES_NO = ("yes", "no")
#: config game_args key -> (parameter name, type); all are required
GAME_ARGS = {"p": ("p", float), "v": ("v", float), "c": ("c", float), "product_price": ("price", float),
             "total_rounds": ("total_rounds", int), "seller_message_type": ("message_type", str),
             "is_myopic": ("myopic", bool), "is_seller_know_cv": ("seller_knows_values", bool),
             "is_buyer_know_p": ("buyer_knows_p", bool)}


def params_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """The game's parameters from config.json's game_args; a missing or unusable one names its key."""
    ga = config["game_args"]
    out: dict[str, Any] = {}
    for key, (name, kind) in GAME_ARGS.items():
        if key not in ga:
            raise GameFileError("missing_parameter", f"game_args has no {key!r}", field=key)
        raw = ga[key]
        if kind is bool:
            out[name] = config_flag(raw, key)
        elif kind is str:
            out[name] = str(raw)
        else:  # a finite number (whole for a count), never a boolean or NaN
            out[name] = kind(config_number(raw, key, whole=kind is int))
    out["buyer_messages"] = config_flag(ga.get("allow_buyer_message", False), "allow_buyer_message")
    if out["message_type"] not in ("text", "binary"):
        raise GameFileError("bad_parameter", f"seller_message_type {out['message_type']!r} is not text/binary",
                            field="seller_message_type")
    if not 0.0 <= out["p"] <= 1.0:
        raise GameFileError("bad_parameter", f"p = {out['p']} is not a probability", field="p")
    if out["price"] <= 0 or out["total_rounds"] < 1:
        bad = "product_price" if out["price"] <= 0 else "total_rounds"
        raise GameFileError("bad_parameter", f"game_args.{bad} must be positive", field=bad)
    return out


def parse_row(row: dict[str, str], rowno: int, seats: Mapping[str, str], params: dict[str, Any]) -> Event:
    """One CSV row as a move: nature's quality, the seller's message or signal, or the buyer's choice."""
    name = (row.get("player") or "").strip()
    rnd = round_number(row, rowno)
    decision = (row.get("decision") or "").strip()
    if name == NATURE_NAME and name not in seats:
        label = (row.get("round_quality") or "").strip()
        if label not in QUALITY_LABELS:
            raise GameFileError("unknown_quality", f"round_quality {label!r} is not one of "
                                                   f"{sorted(QUALITY_LABELS)}", rowno, "round_quality")
        return Event(rnd, "", "quality", data={"seat": NATURE_SEAT, "row": rowno, "quality": QUALITY_LABELS[label],
                                               "worth": number(row, "product_worth", rowno)})
    if name not in seats:
        raise GameFileError("unknown_player", f"player {name!r} is neither {NATURE_NAME} nor one of "
                                              f"{sorted(seats)}", rowno, "player")
    seat = seats[name]
    message = message_or_none(row.get("message"))
    if seat == SELLER:
        if decision.lower() in YES_NO:
            sig = decision.lower()
            return Event(rnd, "", SIGNAL_ACTIONS[sig], data={"seat": seat, "row": rowno, "signal": sig,
                                                             "message": message})
        if decision not in ("", "None", "nan"):
            raise GameFileError("unknown_signal", f"seller decision {decision!r} is not yes/no (or empty for a "
                                                  "text message)", rowno, "decision")
        return Event(rnd, "", "message", data={"seat": seat, "row": rowno, "signal": None, "message": message})
    if decision.lower() not in YES_NO:
        raise GameFileError("unknown_decision", f"buyer decision {decision!r} is not yes/no", rowno, "decision")
    data: dict[str, Any] = {"seat": seat, "row": rowno}
    if message is not None:
        data["message"] = message
    return Event(rnd, "", decision.lower(), data=data)


def anomalies(move: Event, params: dict[str, Any]) -> list[Anomaly]:
    """Moves that replay but contradict the game: a worth that is not quality x value x price, or a seller
    move of the wrong kind for the game's message type."""
    seat = move.data.get("seat")
    out: list[Anomaly] = []
    if seat == NATURE_SEAT:
        expected, got = worth(params, move.data["quality"]), float(move.data["worth"])
        if abs(got - expected) > 1e-6 * max(1.0, abs(expected)):
            out.append(("worth_mismatch", "product_worth", f"product_worth {got:g} for a {move.data['quality']}-"
                                                           f"quality product; the parameters say {expected:g}"))
    elif seat == SELLER:
        binary = params["message_type"] == "binary"
        if binary and move.data.get("signal") is None:
            out.append(("missing_signal", "decision", "binary-message game but the seller row has no yes/no "
                                                      "recommendation"))
        if not binary and move.data.get("signal") is not None:
            out.append(("unexpected_signal", "decision", f"text-message game but the seller row carries the "
                                                         f"signal {move.data['signal']!r}"))
    return out


def extra_stats(trajectories: list[Trajectory]) -> dict[str, Any]:
    """Who the humans played (only buyers are scored) and which kinds of game they were."""
    seats = Counter(t.params["human_seat"] for t in trajectories)
    kinds = Counter((t.params["message_type"], "myopic" if t.params["myopic"] else "one buyer")
                    for t in trajectories)
    empty = sum(1 for t in trajectories for e in t.events
                if e.action == "message" and e.data.get("message") is None)
    out: dict[str, Any] = {"games with a human buyer (scored)": seats.get(BUYER, 0),
                           "games with a human seller (not scored)": seats.get(SELLER, 0)}
    for (mtype, myopic), n in sorted(kinds.items()):
        out[f"games with {mtype} messages, {myopic}"] = n
    out["seller text messages left empty"] = empty
    return out


FORMAT = LogFormat(family="glee_persuasion", folder="persuasion", game="persuasion", columns=COLUMNS,
                   rules=PersuasionRules(), roles={SELLER: "seller", BUYER: "buyer"}, params=params_from_config,
                   parse_row=parse_row, anomalies=anomalies, published_decisions=3180,
                   scored_label="buyer yes/no decisions", extra_stats=extra_stats)
