"""behaviour stage of panneuro."""
