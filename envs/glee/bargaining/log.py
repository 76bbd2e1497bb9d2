"""GLEE bargaining logs: ``alice_gain,bob_gain,message,player,round,decision``.

An offer row carries both gains and the proposer's message (decision ``None``);
the next row is the other player's ``accept`` or ``reject`` (gains empty, message
``None``).  Gain columns are named after the players' public names
(``alice_gain`` for Alice).  The discount factors sit either in each player's
args (``delta``, older configs) or in game_args (``delta_1``/``delta_2``, newer).
"""

from __future__ import annotations

from typing import Any, Mapping

from envs.glee.files import GameFileError, config_flag, config_number, number, seat_and_round
from envs.glee.loader import Anomaly, LogFormat
from envs.glee.bargaining.rules import BargainingRules
from envs.glee.text import message_or_none
from envs.records import Event

COLUMNS = ("alice_gain", "bob_gain", "message", "player", "round", "decision")
DECISIONS = {"accept": "accept", "reject": "reject"}


def params_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """Discount factors, stakes, round limit and switches; a missing or unusable one names its key."""
    ga = config["game_args"]
    out: dict[str, Any] = {}
    for i, seat in ((1, "player_1"), (2, "player_2")):
        d = ga.get(f"delta_{i}")
        if d is None:
            args = config.get(f"{seat}_args")
            d = args.get("delta") if isinstance(args, dict) else None
        if d is None:
            raise GameFileError("missing_parameter", f"no discount factor for {seat} (game_args.delta_{i} or "
                                                     f"{seat}_args.delta)", field=f"delta_{i}")
        out[f"delta_{i}"] = config_number(d, f"delta_{i}")
        if not 0.0 < out[f"delta_{i}"] <= 1.0:
            raise GameFileError("bad_parameter", f"discount factor delta_{i} {d!r} is not in (0, 1]",
                                field=f"delta_{i}")
    for key in ("money_to_divide", "max_rounds"):
        if key not in ga:
            raise GameFileError("missing_parameter", f"game_args has no {key!r}", field=key)
    out["money"] = config_number(ga["money_to_divide"], "money_to_divide")
    out["max_rounds"] = int(config_number(ga["max_rounds"], "max_rounds", whole=True))
    for key, name in (("money_to_divide", "money"), ("max_rounds", "max_rounds")):
        if not out[name] > 0:
            raise GameFileError("bad_parameter", f"game_args.{key} {ga[key]!r} is not positive", field=key)
    out["complete_information"] = config_flag(ga.get("complete_information", True), "complete_information")
    out["messages_allowed"] = config_flag(ga.get("messages_allowed", True), "messages_allowed")
    return out


def parse_row(row: dict[str, str], rowno: int, seats: Mapping[str, str], params: dict[str, Any]) -> Event:
    seat, rnd = seat_and_round(row, rowno, dict(seats))
    decision = (row.get("decision") or "").strip()
    if decision in ("None", ""):
        names = params["names"]
        gains = {s: number(row, f"{names[s].lower()}_gain", rowno) for s in ("player_1", "player_2")}
        return Event(rnd, "", "offer", data={"seat": seat, "gains": gains, "row": rowno,
                                             "message": message_or_none(row.get("message"))})
    if decision.lower() not in DECISIONS:
        raise GameFileError("unknown_decision", f"decision {decision!r} is not accept/reject", rowno, "decision")
    return Event(rnd, "", DECISIONS[decision.lower()], data={"seat": seat, "row": rowno})


def anomalies(move: Event, params: dict[str, Any]) -> list[Anomaly]:
    if move.action != "offer":
        return []
    gains = move.data["gains"]
    total = sum(gains.values())
    out = []
    if abs(total - params["money"]) > 1e-6 * max(1.0, params["money"]):
        out.append(("offer_sum", "alice_gain", f"offer gains add up to {total:g}, not the stakes "
                                               f"{params['money']:g}"))
    if any(v < 0 for v in gains.values()):
        out.append(("negative_gain", "alice_gain", f"offer has a negative gain {gains}"))
    return out


FORMAT = LogFormat(family="glee_bargaining", folder="bargaining", game="bargaining", columns=COLUMNS,
                   rules=BargainingRules(), roles={"player_1": "first proposer", "player_2": "first responder"},
                   params=params_from_config, parse_row=parse_row, anomalies=anomalies, published_decisions=1788,
                   scored_label="accept/reject decisions")
