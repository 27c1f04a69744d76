"""sleep stage of panneuro: LFP, sharp-wave ripples and reactivation of task patterns."""
