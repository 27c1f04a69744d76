"""panneuro: learning to learn across primate species and brain regions.

The analysis logic of the compendium (picture: ``docs/architecture.md``). The stages:
``ingest`` (a lab's recordings into BIDS), ``simulate`` (the embedded ground-truth study),
``behaviour`` (learning-set curves and the learning-to-learn model), ``ephys``
(preprocessing, sorting, curation, NWB), ``ecog`` (high-gamma and its statistics),
``decoding`` (population decoding), ``stats`` (permutation statistics) and ``figures``; under
them ``io`` (files) and ``seeding`` (random streams). ``compendium`` is the data layer the jobs
run on (DataLad I/O, access, storage, provenance, de-identification, BIDS validation,
resources, publication); ``results`` reads a run back; ``study`` is the sample sheet and config
as the one object the rules ask; ``cli`` is the ``panneuro`` command.
"""

__version__ = "0.1.0"
