"""io stage of panneuro."""
