"""Outcome-responsive electrodes and time-resolved outcome decoding of one ECoG session."""

import logging
import time

from panneuro.compendium.provenance import write_provenance
from panneuro.ecog.high_gamma import read_high_gamma
from panneuro.ecog.statistics import decode_outcome, responsive_electrodes, statistics_to_json
from panneuro.io.tables import write_json
from panneuro.seeding import derived_seed

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
smk = snakemake  # noqa: F821
subject, session = smk.wildcards.subject, smk.wildcards.session
start = time.perf_counter()
epochs = read_high_gamma(smk.input[0])
correct = epochs.trials["correct"].to_numpy()
responsive = responsive_electrodes(
    epochs.data,
    correct,
    epochs.times,
    epochs.channels,
    window=tuple(smk.params.window),
    n_permutations=int(smk.params.n_permutations),
    seed=derived_seed(smk.params.seed, "ecog-clusters", subject, session),
    alpha=float(smk.params.alpha),
    n_jobs=smk.threads,
)
logging.info("cluster test done in %.1f s", time.perf_counter() - start)
decoding = decode_outcome(
    epochs.data,
    correct,
    epochs.times,
    groups=epochs.trials["problem"].to_numpy(),
    n_folds=int(smk.params.decoding_n_folds),
    n_permutations=int(smk.params.decoding_n_permutations),
    seed=derived_seed(smk.params.seed, "ecog-decoding", subject, session),
    bin_width=float(smk.params.decoding_bin),
    alpha=float(smk.params.alpha),
)
summary = statistics_to_json(
    responsive,
    decoding,
    {"rewarded": int((correct == 1).sum()), "unrewarded": int((correct == 0).sum())},
)
write_json(summary, smk.output[0])
logging.info(
    "responsive electrodes %s; done in %.1f s",
    summary["responsive_electrodes"],
    time.perf_counter() - start,
)
write_provenance(smk)  # results/…/<output>.prov.json
