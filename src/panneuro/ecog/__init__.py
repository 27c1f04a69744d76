"""ecog stage of panneuro."""
