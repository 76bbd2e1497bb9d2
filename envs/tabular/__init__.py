'''Game families as data: one YAML file, no Python.

A researcher with a CSV, TSV or JSON-lines file of human decisions (one row per decision)
writes one YAML file and gets a full game family (``envs.family.Family``): a loader with a
data-quality report, a PettingZoo AEC replay environment, prompt parts for the ``llm``
predictor, a stage game for ``nash`` / ``qre`` / ``normative``, features for
``feature-logit``, the baselines' cell and variables for the analysis::

    from envs.registry import load_family_file
    family = load_family_file("configs/families/stag_hunt.yaml")   # checked and registered
    trajectories, report = family.load()                           # the data set's folder for data.dataset

(or ``data.family: stag_hunt.yaml`` in a run config).  ``load_family_yaml(path)`` reads a file
without registering it.  A mistake in the file is one ``FamilySpecError`` line naming the file
and the key (``stag.yaml: prompt.rules: 'ofer' is undefined``), raised when the file is read or,
for what only a value can show, when the first decision is rendered; a problem in the data is a
``DataFormatError`` (missing file or column) or an issue in the ``LoadReport`` (a bad row:
``envs.tabular.loader`` lists the kinds).

The schema (every key; anything else is an error that lists the allowed keys)
============================================================================

.. code-block:: yaml

    name: stag_hunt        # required: letters, digits, _ and -; the family's name in configs and results
    description: Repeated stag hunt, fixed partners       # optional: one line for `gamereplay list`
    data:                  # required
      path: stag_hunt.csv  # required: a file, a folder (its *.csv, *.tsv, *.jsonl) or a glob, relative to
                           #   this YAML file; with `dataset`, relative to that data set's folder (the
                           #   folder the caller passes to Family.load)
      dataset: akata2025_repeated_games  # optional: a registered data set (sim.datasets)
      format: csv          # optional: csv | tsv | jsonl (default: from each file's extension)
      delimiter: ","       # optional: a CSV's field separator (default: the one of , ; | tab its header uses)
      rounds: 10           # optional: rounds per instance; fewer rows are flagged (`rounds=N`), rows beyond
                           #   are skipped; default: each instance's own row count
      columns:             # required: which column holds what
        participant: subject       # required: the person
        instance: [subject, pair]  # optional: the column(s) naming one play of a game; must include the
                                   #   participant column (default: participant, plus game if given)
        game: treatment            # optional: the game's name (DecisionPoint.game; default: the family name)
        round: period              # optional: whole numbers from 1 (default: the row's order in its instance)
        action: choice             # required: the human's action, as the data label it
        opponent_action: other     # optional: the other player's action, as the data label it
        payoff: score              # optional: the human's payoff; with a game and no opponent_action the
                                   #   opponent's action is the unique one consistent with it
        context: [offer, stake]    # optional: further columns the decision depends on: numbers are parsed
                                   #   as numbers; in every template and expression by name, in
                                   #   DecisionPoint.params (the decision's own row), analysis variables
    actions:               # required: the human's actions, in order, name -> spec (at least two)
      stag: {label: S, text: Stag, affirmative: true}
      hare: {label: H, text: Hare}
      #   label: the value(s) the data write (a value or a list; default: the name); each label once
      #   text: what a model writes to choose it (Family.option_text; default: the name)
      #   affirmative: true on exactly one action: the one binary metrics count as 1
    opponent_actions:      # optional: the other seat's actions, same shape without `affirmative`
      propose: {}          #   (default: the human's actions)
    game:                  # optional: without it no stage game (no nash, qre, normative)
      title: Stag hunt     # optional: `title` in templates (default: the game's name)
      payoffs:             # human action -> opponent action -> [human payoff, opponent payoff], every pair
        stag: {stag: [10, 10], hare: [0, 8]}
        hare: {stag: [8, 0], hare: [8, 8]}
      # an entry may be an expression over the row: accept: {propose: ["offer", "stake - offer"]}
      # or one game per value of a column (the game column or a context column):
      # by: game
      # games: {PD: {title: "Prisoner's Dilemma", payoffs: {...}}, BoS: {payoffs: {...}}}
    opponent:              # optional: the other seat's policy: a move the log lacks, and live play
      lookup:
        file: "{{ game }}_lookup.json"   # a template over the row, relative to the data set's folder (with
                                         #   data.dataset) or to this YAML file's folder
        key: own_history   # the JSON object's keys: the human's past actions' names concatenated ("JJF")
      # or: policy: "package.module:function"   (function(scope dict) -> opponent action name or None)
    prompt:                # optional (the llm predictor needs it): Jinja2 templates
      rules: "..."         # required: the game in words
      question: "..."      # required: the decision to make now
      history_line: "..."  # optional: one past round (its fields also at top level); the non-empty lines,
                           #   joined with newlines, make the part `history`
      options: "..."       # optional: default: the actions' texts joined with " or "
      # any other key (letters, digits, _): a further named part, for prompt variants
    features:              # optional (feature-logit needs it): names, or name -> expression
      other_last: "0.5 if not opponent_moves else float(opponent_moves[-1] == affirmative)"
    baselines:
      cell: [game, round]  # optional: the row names population-rate and reciprocity pool over

The scope of a decision (what templates and expressions see; ``envs.tabular.scope``)
===================================================================================

``round``, ``n_rounds``, ``game``, ``title``, ``participant``, every context column;
``actions`` / ``opponent_actions`` (objects with ``.name``, ``.text``, ``.label``),
``affirmative`` (its name), ``payoffs`` (with a game: ``((a, b), (p, q))`` per pair, a and b
action objects); ``history`` (past rounds, each with ``round``, ``action``,
``opponent_action``, ``payoff``, ``opponent_payoff``, ``logged_payoff`` and its context);
``own_moves`` / ``opponent_moves`` (past moves' names).  Payoff expressions, the lookup file
name and the baseline cell see only the row: ``round``, ``n_rounds``, ``game``, ``title``,
``participant`` and the context.  Functions and the filter ``num``: ``envs.tabular.templates``.

The prompt parts a family renders: ``rules``, ``history``, ``question``, ``round`` (the round
number), ``options``, and the further parts.  Examples: ``configs/families/akata_repeated.yaml``,
the built-in repeated-games family re-expressed (``tests/test_tabular_fidelity.py`` shows it gives
the same decisions, byte-identical prompts and the same predictions), and the made-up stag hunt
``tests/data/stag_hunt.yaml``.
'''

from envs.tabular.env import TabularEnv, env, raw_env
from envs.tabular.errors import FamilySpecError
from envs.tabular.family import TabularFamily, load_family_yaml
from envs.tabular.spec import Spec, load_spec

__all__ = ["FamilySpecError", "Spec", "TabularEnv", "TabularFamily", "env", "load_family_yaml", "load_spec",
           "raw_env"]
