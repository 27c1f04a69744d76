"""decoding stage of panneuro."""
