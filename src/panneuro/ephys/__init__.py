"""ephys stage of panneuro."""
