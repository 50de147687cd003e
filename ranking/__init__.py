"""The ranking engine: differential diagnosis, treatment options and related diseases, with evidence."""

from ranking.case import Case, parse_case
from ranking.config import RankingConfig, config_from_settings
from ranking.engine import NOTICE, Engine, LinkScorer, RankResult, TextReader

__all__ = [
    "NOTICE",
    "Case",
    "Engine",
    "LinkScorer",
    "RankResult",
    "RankingConfig",
    "TextReader",
    "config_from_settings",
    "parse_case",
]
