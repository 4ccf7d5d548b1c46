"""Search spaces: parameter domains, sampling, the flat view for tuners, and the parsers."""

from tunelab.space._discovered import DiscoveredSpace
from tunelab.space._domains import (
    Branch,
    Choice,
    Domain,
    Fixed,
    Float,
    Int,
    LogitFloat,
    Normal,
    QuantizedValues,
    ReverseLogFloat,
)
from tunelab.space._parsers import parse_auptimizer, parse_nni, parse_search_space
from tunelab.space._space import KEY_SEPARATOR, MAX_NESTING, MAX_PARAMETERS, Leaf, SearchSpace, fixed_space
from tunelab.space.hyperparameters import HyperParameter, HyperParameters

__all__ = [
    "KEY_SEPARATOR",
    "Branch",
    "Choice",
    "DiscoveredSpace",
    "Domain",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
    "Leaf",
    "LogitFloat",
    "MAX_NESTING",
    "MAX_PARAMETERS",
    "Normal",
    "QuantizedValues",
    "ReverseLogFloat",
    "SearchSpace",
    "fixed_space",
    "parse_auptimizer",
    "parse_nni",
    "parse_search_space",
]
