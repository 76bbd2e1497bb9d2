"""GLEE negotiation logs: ``message,product_price,player,round,decision``.

An offer row carries the proposer's price and message with an empty decision;
the next row is the other side's answer (price and message empty):
``AcceptOffer``, ``RejectOffer`` or the outside option, labelled by the role of
the one taking it — ``SellToJhon`` (seller), ``BuyFromJhon`` (buyer) — or the
role-free ``DealWithJhon`` (all spelled so upstream).  Labels are normalised to
accept / reject / outside; the logged label stays in the move's data.
Parameters come from config.json ``game_args``.
"""

from __future__ import annotations

from typing import Any, Mapping

from envs.glee.files import GameFileError, config_flag, config_number, number, seat_and_round
from envs.glee.loader import Anomaly, LogFormat
from envs.glee.negotiation.rules import BUYER, OUTSIDE_LABEL, SELLER, NegotiationRules, role
from envs.glee.text import message_or_none
from envs.records import Event

COLUMNS = ("message", "product_price", "player", "round", "decision")
#: logged decision label (lower case) -> normalised action; the correctly spelled John is read too
DECISIONS = {"acceptoffer": "accept", "rejectoffer": "reject", "selltojhon": "outside", "buyfromjhon": "outside",
             "dealwithjhon": "outside", "selltojohn": "outside", "buyfromjohn": "outside", "dealwithjohn": "outside"}
#: outside-option labels that name a role, and the seat that role belongs to
ROLE_OF_LABEL = {"selltojhon": SELLER, "selltojohn": SELLER, "buyfromjhon": BUYER, "buyfromjohn": BUYER}
#: prices beyond these multiples of ``product_price_order`` are flagged as a likely typo or misunderstanding
PRICE_SCALE = (0.01, 100.0)
NUMERIC_ARGS = ("seller_value", "buyer_value", "product_price_order", "max_rounds")
FLAG_ARGS = ("messages_allowed", "complete_information")


def params_from_config(config: dict[str, Any]) -> dict[str, Any]:
    """The game's parameters from ``game_args``; every one is required, since the prompt and the rule use all."""
    ga = config["game_args"]
    for key in NUMERIC_ARGS + FLAG_ARGS:
        if key not in ga:
            raise GameFileError("missing_parameter", f"game_args has no {key!r}", field=key)
    out: dict[str, Any] = {}
    for key in NUMERIC_ARGS:
        out[key] = config_number(ga[key], key, whole=key == "max_rounds")
        if not out[key] > 0:
            raise GameFileError("bad_parameter", f"game_args.{key} {ga[key]!r} is not positive", field=key)
    out["max_rounds"] = int(out["max_rounds"])
    for key in FLAG_ARGS:
        out[key] = config_flag(ga[key], key)
    return out


def parse_row(row: dict[str, str], rowno: int, seats: Mapping[str, str], params: dict[str, Any]) -> Event:
    """One row as a move: an offer (price, message as typed) or an answer (normalised label, logged label)."""
    seat, rnd = seat_and_round(row, rowno, dict(seats))
    label = (row.get("decision") or "").strip()
    if label in ("", "None", "nan"):
        return Event(rnd, "", "offer", data={"seat": seat, "price": number(row, "product_price", rowno),
                                             "message": message_or_none(row.get("message")), "row": rowno})
    if label.lower() not in DECISIONS:
        raise GameFileError("unknown_decision", f"decision {label!r} is not AcceptOffer/RejectOffer/"
                                                f"{'/'.join(OUTSIDE_LABEL.values())}/DealWithJhon", rowno, "decision")
    return Event(rnd, "", DECISIONS[label.lower()], data={"seat": seat, "label": label, "row": rowno})


def anomalies(move: Event, params: dict[str, Any]) -> list[Anomaly]:
    """Flag (and keep) a non-positive price, a price orders of magnitude off the product's scale, and an
    outside option labelled for the other role (e.g. the seller answering BuyFromJhon)."""
    out: list[Anomaly] = []
    if move.action == "offer":
        price, order = float(move.data["price"]), float(params["product_price_order"])
        if price <= 0:
            out.append(("non_positive_price", "product_price", f"offered price {price:g} is not positive"))
        elif not PRICE_SCALE[0] * order <= price <= PRICE_SCALE[1] * order:
            out.append(("price_scale", "product_price", f"offered price {price:g} is off the product's scale "
                                                        f"(price order {order:g})"))
    elif move.action == "outside":
        label = str(move.data.get("label", ""))
        owner = ROLE_OF_LABEL.get(label.lower())
        if owner is not None and owner != move.data["seat"]:
            out.append(("outside_label_role", "decision", f"the {role(move.data['seat'])} answered {label!r}, "
                                                          f"the {role(owner)}'s outside option"))
    return out


FORMAT = LogFormat(family="glee_negotiation", folder="negotiation", game="negotiation", columns=COLUMNS,
                   rules=NegotiationRules(), roles={SELLER: "seller", BUYER: "buyer"}, params=params_from_config,
                   parse_row=parse_row, anomalies=anomalies, published_decisions=1182,
                   scored_label="accept/reject/outside decisions")
