"""panneuro: learning to learn across primate species and brain regions.

The analysis logic of the compendium. Each subpackage mirrors a pipeline stage:
``simulate`` (the embedded ground-truth study), ``behaviour`` (learning-set curves and the
learning-to-learn model), ``ephys`` (preprocessing, sorting, curation, NWB), ``ecog``
(high-gamma and its statistics), ``decoding`` (population decoding), ``stats``
(permutation statistics), ``figures`` and ``io``.
"""

__version__ = "0.1.0"
