"""Which corpus entries are the same song, so that evaluation never scores a song the model was fit on.

The corpus split (corpus.split_of) hashes the corpus id, and the corpus holds the
same song more than once: a radio edit and its club remix, a second annotation of
the same track, the same hit in both Harmonix and McGill Billboard, a cover. Such
copies can land on both sides of the split, so the evaluation leaves out every
test song whose group also has a train or validation song (evaluate.group_disjoint).

The group key is ``"<title>|<primary artist>"``, both normalised (song_group_key):

* accents folded to ASCII, lower case, '&' read as 'and', apostrophes dropped,
  then only letters and digits kept ('Dance Floor' = 'Dancefloor');
* title: bracketed parts dropped ('(Skrillex remix)', '(radio edit)',
  '(album version)', '(Part 1)', subtitles), then anything after a spaced dash
  ('Cold Sweat - Part 1') or a featuring credit, then a trailing 'Part 1' / 'Pt. 1' /
  'Part One' (a single split over two sides; 'Part 2' stays, it is a song of its own);
* artist: only the primary credit, the text before 'feat.', 'featuring', 'ft.',
  'with', 'vs.', 'and', '&', ',', '+' or '/' ('Edward Maya & Vika Jigulina' =
  'Edward Maya'; 'Simon & Garfunkel' keys as 'simon', which only merges more);
* the words 'the', 'a', 'an' dropped from both ('The Black Eyed Peas' = 'Black Eyed Peas');
* then two small hand-checked tables: ARTIST_ALIASES (one act under two names) and
  SAME_SONG (covers, swapped credits and misspellings that the rules cannot see).

Different songs that share a title (Kanye West's and Kelly Clarkson's 'Stronger')
keep apart because their artists differ. A cover also has another artist, so the
covers found by comparing every same-title pair in the corpus by hand are listed in
SAME_SONG.
"""

from __future__ import annotations

import re
import unicodedata

# words dropped from titles and artists before they are compared
_STOP_WORDS = frozenset({"the", "a", "an"})
# the primary artist is the credit before the first of these
_ARTIST_SEPARATOR = re.compile(r"\s(?:feat\.?|featuring|ft\.?|with|vs\.?|and|x)\s|\s?[&,+/;]\s?")
# a title's own words end at a spaced dash or a featuring credit
_TITLE_TAIL = re.compile(r"\s[-\u2013\u2014]\s|\s(?:feat\.?|featuring|ft\.?)\s")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PART_ONE = re.compile(r",?\s*\b(?:part|pt\.?)\s*(?:1|one|i)\s*$")

# normalised artist -> the normalised name of the same act elsewhere in the corpus
ARTIST_ALIASES = {
    # McGill Billboard credits the Motown-era Jackson 5 hits ('I Want You Back', 'Dancing Machine')
    # to the group's later name
    "jacksons": "jackson5",
}

# group key -> group key of the same song under another credit or spelling
SAME_SONG = {
    # covers (the same composition with its form): key of the cover -> key of the original
    "beatit|falloutboy": "beatit|michaeljackson",
    "timeaftertime|ayleen": "timeaftertime|cyndilauper",
    "wayyoudothingsyoudo|ub40": "wayyoudothingsyoudo|temptations",
    "wayyoudothingsyoudo|ritacoolidge": "wayyoudothingsyoudo|temptations",
    "unforgettable|nataliecole": "unforgettable|dinahwashington",
    "fever|ritacoolidge": "fever|peggylee",
    "walkrightin|drhook": "walkrightin|moments",
    "iwanttotakeyouhigher|ike": "iwanttotakeyouhigher|sly",
    "lastkiss|wednesday": "lastkiss|jfrankwilson",
    # the same recording credited the other way round
    "goodtime|carlyraejepsen": "goodtime|owlcity",
    # a remix whose corpus entry has the title as its artist
    "badromance|badromance": "badromance|ladygaga",
    # 'Day 'n' Night (remix)' of Kid Cudi's 'Day 'N' Nite'
    "daynnight|kidcudi": "daynnite|kidcudi",
}


def _ascii_words(text: str) -> list[str]:
    """Lower-case ASCII words of ``text``: accents folded, '&' read as 'and', apostrophes dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"['\u2019`]", "", folded.replace("&", " and "))
    return [word for word in re.split(r"[^a-z0-9]+", folded) if word]


def _squeeze(words: list[str]) -> str:
    """Words without 'the', 'a', 'an', run together (all of them if nothing else is left)."""
    kept = [word for word in words if word not in _STOP_WORDS]
    return "".join(kept or words)


def title_key(title: str) -> str:
    """A title without its version notes, featuring credits and 'Part 1', normalised."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    core = folded
    while True:  # nested brackets: innermost first
        stripped = _BRACKETED.sub(" ", core)
        if stripped == core:
            break
        core = stripped
    core = _TITLE_TAIL.split(core, maxsplit=1)[0]
    core = _PART_ONE.sub("", core.strip())
    # a title that is all brackets or dashes keeps its words
    return _squeeze(_ascii_words(core)) or _squeeze(_ascii_words(folded))


def artist_key(artist: str) -> str:
    """The primary artist of a credit, normalised, under its ARTIST_ALIASES name."""
    folded = unicodedata.normalize("NFKD", artist).encode("ascii", "ignore").decode().lower()
    primary = _ARTIST_SEPARATOR.split(folded, maxsplit=1)[0]
    key = _squeeze(_ascii_words(primary)) or _squeeze(_ascii_words(folded))
    return ARTIST_ALIASES.get(key, key)


def song_group_key(title: str, artist: str) -> str:
    """``"<title>|<primary artist>"``, equal for versions of one song (see the module docstring)."""
    key = f"{title_key(title)}|{artist_key(artist)}"
    return SAME_SONG.get(key, key)
