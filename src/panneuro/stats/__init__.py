"""stats stage of panneuro."""
