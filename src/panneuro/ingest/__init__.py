"""ingest stage of panneuro: a lab's recordings brought into a valid BIDS dataset.

- :mod:`panneuro.ingest.session_metadata`: session start, age, sex and species from the
  dataset's BIDS files (``participants.tsv``, ``sessions.tsv``/``scans.tsv``), whatever the
  recording's format;
- :mod:`panneuro.ingest.nwb_conversion`: microelectrode recordings in acquisition formats
  (SpikeGLX, Open Ephys, Intan, Blackrock, Neuralynx, plain binary) converted to
  iEEG-datatype NWB with NeuroConv, with their BIDS sidecars;
- :mod:`panneuro.ingest.bids_view`: the converted dataset as the validator sees it: the raw
  dataset with its converted recordings in place and the originals under ``sourcedata/``.
"""
