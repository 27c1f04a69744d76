"""simulate stage of panneuro."""
