"""What a query asks about, read before it is embedded: its topic, quoted phrases and shape.

Questions about conversations come in templates: "Summarize the discussion about X", "What did
the Project Manager think of X when discussing Y?", "Why did Marketing disagree with ...". The
template words ("summarize", "discussion", "think", "when discussing") are in every such query
and say nothing about which moment answers it; they pull the query's vector towards talk in
general. `topic` strips the lead-in and the connective clauses (a few fixed patterns, listed
below, no model) and keeps the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podsearch.models import Passages, SearchFilters
from search_api.schemas import SearchMode

_SPEECH_VERBS = (
    r"(?:think|thought|say|said|talk(?:ed)?|discuss(?:ed)?|mention(?:ed)?|propos(?:e|ed)"
    r"|recommend(?:ed)?|suggest(?:ed)?|elaborate(?:d)?|agree(?:d)?|disagree(?:d)?|conclude(?:d)?"
    r"|decide(?:d)?|learn(?:ed|t)?|question(?:ed)?|respond(?:ed)?|comment(?:ed)?|contribute(?:d)?"
    r"|present(?:ed)?|feel|felt|put forward|debate(?:d)?|introduce(?:d)?|answer(?:ed)?)"
)
_MEETING_NOUNS = (
    r"(?:discussions?|presentations?|decisions?|debates?|opinions?|ideas?|perspectives?|views?"
    r"|plans?|problems?|reviews?|evaluations?|conclusions?|questioning|controversy|findings?"
    r"|comments?|description|status|summary)"
)
# Who is asked about: up to four words, none of which starts a clause of its own.
_SUBJECT = r"(?:(?!(?:when|while|that|which|if|you|your|i|we)\b)[\w'’.-]+\s+){0,4}?"
_ABOUT = r"(?:about|on|of|over|towards|regarding|concerning|for)"
# How a templated question starts; cut out, with the connective clauses below, it leaves the topic.
_LEAD = [
    # "Summarize the discussion about", "Summarize Kirsty Williams' opinion on",
    # "Summarize the decision of the discussion about", "Summarize what was said about"
    rf"^\s*(?:please\s+)?(?:summari[sz]e|describe)\s+(?:what\s+was\s+(?:said|discussed)\s+"
    rf"{_ABOUT}\s+|(?:[\w'’-]+\s+){{0,4}}?{_MEETING_NOUNS}\s+(?:{_ABOUT}\s+)?"
    rf"(?:the\s+{_MEETING_NOUNS}\s+{_ABOUT}\s+)?)?",
    # "What did the Project Manager think of", "Why did PhD A say", "How did Bains respond to"
    rf"^\s*(?:what|why|how)\s+(?:did|does|do|would|was|were)\s+{_SUBJECT}"
    rf"{_SPEECH_VERBS}\b(?:\s+{_ABOUT}\b|\s+(?:with|to|that)\b)?",
    # "What was the debate over", "What is the conclusion of the discussion about"
    rf"^\s*what(?:'s|’s|\s+was|\s+were|\s+is|\s+are)\s+(?:the\s+)?(?:\w+\s+)?{_MEETING_NOUNS}"
    rf"\s+(?:{_ABOUT}\s+)?(?:the\s+{_MEETING_NOUNS}\s+{_ABOUT}\s+)?",
]
# "... when discussing", "... when talking about", "... and why" (only after a lead: "while
# traveling for work" in a free question is part of its topic)
_CLAUSE = [r"\b(?:when|while)\s+(?:\w+ing)\b(?:\s+(?:about|on|of))?", r"\band\s+why\b"]
_LEADS = [re.compile(p, re.IGNORECASE) for p in _LEAD]
_CLAUSES = [re.compile(p, re.IGNORECASE) for p in _CLAUSE]
_WORD = re.compile(r"[^\W_]+")
STOP_WORDS = frozenset(
    "a about an and any are as at be but by can could did do does for from had has have how i if "
    "in into is it its me my no not of on or our so than that the their them then there these "
    "they this those to was we were what when where which while who whom why will with would you "
    "your".split()
)


_QUOTE = re.compile(r'["“”]')
# One word ("kubernetes", "the pager") says little to an embedding model and exactly what to
# look for to BM25: its BM25 ranks count three times a dense one's in the fusion.
KEYWORD_FIRST = 3.0


@dataclass(frozen=True)
class QueryReading:
    """How a search uses one query."""

    text: str  # as typed: BM25 and the first dense branch see it whole
    topic: str | None  # without its question template, when it had one: a second dense branch
    phrases: tuple[str, ...]  # quoted: every moment must say each one, word for word
    keyword_weight: float  # RRF weight of BM25: keyword-first for a one-word query

    def dense_texts(self, mode: SearchMode) -> list[str]:
        """What the embedder is asked: the topic is a branch of hybrid searches only, so
        semantic scores stay cosines."""
        if mode is SearchMode.hybrid and self.topic is not None:
            return [self.text, self.topic]
        return [self.text]


def read_query(query: str) -> QueryReading:
    found = topic(query)
    one_word = len(content_words(query)) == 1
    return QueryReading(
        query,
        found if found != query else None,
        quoted_phrases(query),
        KEYWORD_FIRST if one_word else 1.0,
    )


def passages(mode: SearchMode, filters: SearchFilters) -> Passages:
    """Whose vectors rank: a hybrid search filtered to exactly one episode also asks each
    segment's context (the segment widened, `segmenting.cut_episode`) with every vector.

    Inside one episode the question is where, and a wider passage locates the talk around the
    answer (measured on both eval sets: within-episode MRR@10 qmsum 0.713 -> 0.740, Changelog
    0.826 -> 0.887). Across episodes a wider passage matches other episodes' talk about the
    same subject as well (20 of qmsum's 35 meetings are stages of one design task: 0.461 ->
    0.450), so those searches keep the segments alone. Hybrid only, like the topic branch:
    semantic scores stay cosines and keyword scores BM25's."""
    if mode is SearchMode.hybrid and len(set(filters.episode_ids)) == 1:  # `a&a` is one
        return Passages.segment_and_context
    return Passages.segment


def topic(query: str) -> str:
    """The query without its question template; the query itself when no template matched or
    too little would be left."""
    stripped, leads = query, 0
    for pattern in _LEADS:
        stripped, n = pattern.subn(" ", stripped, count=1)
        leads += n
    if not leads:
        return query
    for pattern in _CLAUSES:
        stripped = pattern.sub(" ", stripped, count=1)
    stripped = " ".join(stripped.replace("?", " ").split()).strip(" .,;:")
    return stripped if content_words(stripped) else query


def quoted_phrases(query: str) -> tuple[str, ...]:
    """The phrases in double quotes ("…" or “…”) that hold a word, each once; quotes pair up
    from the left and an unclosed one quotes nothing."""
    pieces = _QUOTE.split(query)
    inside = (" ".join(p.split()) for p in pieces[1:-1:2])
    return tuple(dict.fromkeys(p for p in inside if _WORD.search(p)))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.casefold() not in STOP_WORDS]
