"""The compendium layer: where the raw data come from, who may read them, what made each result.

Not a stage of the analysis: the services every stage's jobs run on.

- :mod:`panneuro.compendium.annex`: one way to run DataLad, git, git-annex and gpg (shared);
- :mod:`panneuro.compendium.datalad_io`: the raw DataLad dataset installed, each job's content
  got and dropped, key records standing in for annexed files;
- :mod:`panneuro.compendium.access`: human raw data encrypted at rest (git-annex special
  remotes), granting and revoking access;
- :mod:`panneuro.compendium.storage`: paths under Snakemake's remote default storage (S3);
- :mod:`panneuro.compendium.provenance`: sidecars of every result, the chain to the raw files;
- :mod:`panneuro.compendium.deidentification`: the check that no result identifies a person;
- :mod:`panneuro.compendium.bids_validation`: the official BIDS validator and its verdict;
- :mod:`panneuro.compendium.resources`: memory and runtime requests of the heavy jobs;
- :mod:`panneuro.compendium.publish`: the run laid out for DANDI and OpenNeuro.
"""
