"""Group effects of inactivation on behaviour and codes (results/group/inactivation_effects.tsv)."""

import logging
import sys

import pandas as pd

from panneuro.compendium.provenance import write_provenance
from panneuro.io.tables import read_events, read_tsv, write_tsv
from panneuro.seeding import rng_for
from panneuro.stats.design_effects import inactivation_behaviour, inactivation_neural
from panneuro.stats.session_scores import (
    inactivation_scores,
    oracle_rates,
    read_expected_trial2,
    read_group_inputs,
    session_decoding_scores,
    session_rates,
    trial2_table,
)

smk = snakemake  # noqa: F821
sys.stderr = open(smk.log[0], "w")  # noqa: SIM115
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
group = read_group_inputs(smk.params.group, smk.input.design, smk.input.ccgp, smk.input.oracle)
sessions, species, design, scores = group.sessions, group.species, group.design, group.scores
rates = session_rates(
    {
        tuple(k): read_tsv(p)
        for k, p in zip(smk.params.group["probes"], smk.input.metrics, strict=True)
    }
)
# the behavioural contrast's sessions (recorded and behaviour-only) are not the neural one's
behaviour_sessions = [tuple(k) for k in smk.params.group["behaviour_sessions"]]
events = {k: read_events(p) for k, p in zip(behaviour_sessions, smk.input.events, strict=True)}
bin_size = float(smk.params.bin_size)
decoding = session_decoding_scores(
    {k: read_tsv(p) for k, p in zip(sessions, smk.input.decoding, strict=True)}, bin_size
)
truth, expected, truth_decoding = group.truth, None, None
truth_rates = oracle_rates(group.oracle) if group.oracle else None
if smk.input.decoding_oracle:
    truth_decoding = session_decoding_scores(
        {k: read_tsv(p) for k, p in zip(sessions, smk.input.decoding_oracle, strict=True)},
        bin_size,
        value="truth",
    )
if smk.input.truth:
    expected = read_expected_trial2(dict(zip(behaviour_sessions, smk.input.truth, strict=True)))
trials = trial2_table(events, design, expected)
effects = pd.concat(
    [
        inactivation_behaviour(trials, species, rng_for(smk.params.seed, "group", "inact_beh")),
        inactivation_neural(
            scores,
            rates,
            design,
            species,
            rng_for(smk.params.seed, "group", "inact_neural"),
            truth=truth,
            truth_rates=truth_rates,
            decoding=decoding,
            truth_decoding=truth_decoding,
        ),
    ],
    ignore_index=True,
)
logging.info(
    "inactivation effects: behaviour over %d sessions, codes over %d recorded sessions:\n%s",
    len(behaviour_sessions),
    len(sessions),
    effects.to_string(),
)
write_tsv(effects, smk.output.effects)
write_tsv(
    inactivation_scores(
        scores, rates, trials, design, species, truth=truth, truth_rates=truth_rates
    ),
    smk.output.scores,
)
write_provenance(smk)  # results/…/<output>.prov.json
