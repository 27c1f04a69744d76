"""figures stage of panneuro."""
