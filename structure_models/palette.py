"""Style palettes: per-genre instrumentation and per-label arrangement density.

Prompts contrast the way songs do: intros, breakdowns and outros are thin,
verses hold the groove, pre-choruses and builds rise, choruses are fullest,
bridges change colour. Composer appends the outline's `style` to every prompt,
so section prompts name only the arrangement.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class GenrePalette:
    """Instrumentation of one genre, slotted into the label templates."""

    # outline-wide style, appended by composer to every section prompt
    style: str
    # thinnest texture: intros, breakdowns, outros
    sparse: str
    # rhythm section that carries the verses
    groove: str
    # rising elements before a chorus
    lift: str
    # fullest arrangement, for choruses
    full: str
    # a different colour for bridges
    contrast: str
    # solo instrument
    lead: str
    # riff or motif for instrumental breaks
    riff: str
    # composer's drum-groove family for `groove: auto` (composer.groove.STYLE_FAMILIES)
    groove_style: str


PALETTES: MappingProxyType[str, GenrePalette] = MappingProxyType(
    {
        "any": GenrePalette(
            style="modern pop production",
            sparse="soft piano and warm pad",
            groove="bass and steady drums with rhythm guitar",
            lift="rising chords and building drums",
            full="full band, big drums, layered vocals and synths",
            contrast="new chords, half-time drums and strings",
            lead="electric guitar",
            riff="catchy instrumental riff",
            groove_style="pop",
        ),
        "pop": GenrePalette(
            style="bright synth pop, polished production",
            sparse="soft synth pad and filtered piano",
            groove="punchy kick, snappy claps and synth bass",
            lift="rising synth arpeggio and snare build",
            full="huge chorus, four-on-the-floor drums, layered vocal hooks and wide synths",
            contrast="stripped-back piano, airy vocals and half-time beat",
            lead="bright synth lead",
            riff="plucky synth hook",
            groove_style="pop",
        ),
        "hip-hop": GenrePalette(
            style="hip hop beat, crisp mix",
            sparse="dusty sampled keys and vinyl crackle",
            groove="boom bap drums, deep 808 bass and rap vocal",
            lift="hi-hat rolls and rising 808 slides",
            full="hard-hitting 808s, layered hook vocals and trap hi-hats",
            contrast="filtered beat, soulful sample and sparse drums",
            lead="soulful sampled horn",
            riff="looped sample hook",
            groove_style="hiphop",
        ),
        "electronic": GenrePalette(
            style="electronic dance music, club mix",
            sparse="atmospheric pads and filtered percussion",
            groove="four-on-the-floor kick, offbeat hats and rolling bass",
            lift="white-noise riser, snare roll and filter sweep",
            full="massive drop, sidechained supersaw chords and driving bass",
            contrast="ambient breakdown with plucks and no kick",
            lead="acid synth lead",
            riff="synth arpeggio",
            groove_style="edm",
        ),
        "rock": GenrePalette(
            style="rock band, live drums, guitars",
            sparse="clean electric guitar arpeggios",
            groove="driving drums, bass and crunchy rhythm guitar",
            lift="building toms and ringing power chords",
            full="distorted guitars, crashing cymbals and anthemic vocals",
            contrast="quiet clean guitars and brooding bass",
            lead="overdriven lead guitar",
            riff="heavy guitar riff",
            groove_style="rock",
        ),
        "metal": GenrePalette(
            style="heavy metal, high-gain guitars",
            sparse="clean guitar with reverb and distant drums",
            groove="palm-muted riffs, double kick and bass",
            lift="tremolo-picked guitars and accelerating drums",
            full="wall of distorted guitars, blast beats and powerful vocals",
            contrast="slow doom riff and atmospheric clean section",
            lead="shredding guitar",
            riff="chugging metal riff",
            groove_style="rock",
        ),
        "country": GenrePalette(
            style="country, acoustic and pedal steel",
            sparse="fingerpicked acoustic guitar",
            groove="acoustic strumming, upright bass and brushed drums",
            lift="rising pedal steel and building drums",
            full="full country band, twangy guitars, fiddle and harmonies",
            contrast="banjo and fiddle over sparse drums",
            lead="telecaster twang",
            riff="fiddle melody",
            groove_style="rock",
        ),
        "rnb": GenrePalette(
            style="smooth r&b, warm groove",
            sparse="electric piano and soft pads",
            groove="laid-back drums, funky bass and rhodes",
            lift="rising strings and vocal ad-libs",
            full="lush vocal harmonies, groovy bass and full drums",
            contrast="sparse rhodes and falsetto vocal",
            lead="saxophone",
            riff="funky guitar lick",
            groove_style="funk",
        ),
        "latin": GenrePalette(
            style="reggaeton, latin pop",
            sparse="nylon guitar and soft percussion",
            groove="dembow rhythm, deep bass and vocal",
            lift="rising percussion and synth swell",
            full="full dembow beat, brass stabs and catchy vocal hook",
            contrast="acoustic guitar break with congas",
            lead="trumpet",
            riff="marimba hook",
            groove_style="latin",
        ),
        "sixties": GenrePalette(
            style="1960s pop, vintage recording",
            sparse="jangly guitar and tambourine",
            groove="walking bass, shuffle drums and organ",
            lift="rising backing vocals and tom fills",
            full="full band with horns, harmonised backing vocals and tambourine",
            contrast="string section and minor-key organ",
            lead="twangy surf guitar",
            riff="organ riff",
            groove_style="pop",
        ),
        "seventies": GenrePalette(
            style="1970s soft rock and soul, analog warmth",
            sparse="electric piano and brushed cymbals",
            groove="funky bass, tight drums and clavinet",
            lift="rising string section and congas",
            full="full band, horns, strings and soulful backing vocals",
            contrast="acoustic guitar and flute interlude",
            lead="wah-wah guitar",
            riff="horn section riff",
            groove_style="funk",
        ),
        "eighties": GenrePalette(
            style="1980s pop, gated reverb drums",
            sparse="shimmering synth pad and chorus guitar",
            groove="gated drums, synth bass and funky guitar",
            lift="rising synth brass and tom fills",
            full="big gated snare, layered synths, power chords and soaring vocals",
            contrast="moody keyboard and saxophone",
            lead="saxophone solo",
            riff="synth brass riff",
            groove_style="pop",
        ),
    }
)

# label -> arrangement template filled with a GenrePalette's fields
LABEL_TEMPLATES = MappingProxyType(
    {
        "intro": "intro, {sparse}, slowly building",
        "verse": "verse, {groove}",
        "prechorus": "pre-chorus, {groove}, {lift}",
        "chorus": "chorus, {full}",
        "bridge": "bridge, {contrast}",
        "solo": "solo, {lead} over {groove}",
        "instrumental": "instrumental break, {riff} with {groove}",
        "breakdown": "breakdown, {sparse}, drums drop out",
        "build": "build-up, {lift}",
        "outro": "outro, {sparse}, fading out",
        "other": "transition, {riff}",
    }
)

# label -> gain in dB relative to the chorus: the song's dynamic arc
LABEL_GAIN_DB = MappingProxyType(
    {
        "intro": -4.0,
        "verse": -2.0,
        "prechorus": -1.0,
        "chorus": 0.0,
        "bridge": -2.0,
        "solo": -1.0,
        "instrumental": -2.0,
        "breakdown": -5.0,
        "build": -1.5,
        "outro": -4.0,
        "other": -3.0,
    }
)

# label -> how much a repeat differs from its first occurrence (composer's `variation`)
LABEL_VARIATION = MappingProxyType({"verse": 0.35, "chorus": 0.15, "prechorus": 0.2})
DEFAULT_VARIATION = 0.25

# words added to the prompt of a label's second, third ... distinct material
MATERIAL_WORDS = ("", "second theme, new melody", "third theme, another melody")


def section_prompt(*, genre: str, label: str, material: int) -> str:
    """Prompt of a label's `material`-th distinct material (0 = first) in a genre."""
    palette = PALETTES[genre]
    prompt = LABEL_TEMPLATES.get(label, LABEL_TEMPLATES["other"]).format(**palette.__dict__)
    words = MATERIAL_WORDS[min(material, len(MATERIAL_WORDS) - 1)]
    return f"{prompt}, {words}" if words else prompt
