"""General MIDI instruments the corpus uses, with families, ranges and nicknames."""

from __future__ import annotations

from dataclasses import dataclass

import pretty_midi


@dataclass(frozen=True)
class Instrument:
    """One General MIDI melodic program as the arranger and the captions see it."""

    # General MIDI program number, 0-127
    program: int
    # coarse family label used for tags and classifier targets
    family: str
    # phrases a caption may use for it; the first is the plain one
    nicknames: tuple[str, ...]
    # lowest MIDI note the arranger writes for it
    low_note: int
    # highest MIDI note the arranger writes for it
    high_note: int
    # True when notes sustain while held (organ, strings, pads, winds)
    sustained: bool

    @property
    def gm_name(self) -> str:
        """The General MIDI program name ("Electric Piano 1")."""
        return pretty_midi.program_to_instrument_name(self.program)


def _inst(program, family, nicknames, low_note, high_note, sustained=False):
    return Instrument(program, family, tuple(nicknames), low_note, high_note, sustained)


# Keyed by a short name the style table refers to.
INSTRUMENTS: dict[str, Instrument] = {
    "piano": _inst(0, "piano", ["piano", "grand piano", "acoustic piano"], 36, 96),
    "rhodes": _inst(4, "electric piano", ["rhodes", "electric piano", "rhodes piano"], 40, 88),
    "fm_piano": _inst(5, "electric piano", ["fm electric piano", "dx electric piano", "electric piano"], 40, 88),
    "clavinet": _inst(7, "electric piano", ["clavinet", "clav", "funky clavinet"], 40, 84),
    "celesta": _inst(8, "mallets", ["celesta", "celeste"], 60, 96),
    "glockenspiel": _inst(9, "mallets", ["glockenspiel", "bells", "glock"], 67, 100),
    "music_box": _inst(10, "mallets", ["music box", "music-box bells"], 60, 96),
    "vibraphone": _inst(11, "mallets", ["vibraphone", "vibes"], 53, 89),
    "marimba": _inst(12, "mallets", ["marimba"], 48, 84),
    "organ": _inst(16, "organ", ["organ", "hammond organ", "drawbar organ"], 36, 88, True),
    "perc_organ": _inst(17, "organ", ["percussive organ", "organ"], 36, 88, True),
    "rock_organ": _inst(18, "organ", ["rock organ", "organ", "overdriven organ"], 36, 88, True),
    "accordion": _inst(21, "reed", ["accordion"], 53, 89, True),
    "harmonica": _inst(22, "reed", ["harmonica", "blues harp"], 60, 88, True),
    "nylon_guitar": _inst(24, "guitar", ["nylon guitar", "classical guitar", "nylon-string guitar"], 40, 79),
    "steel_guitar": _inst(25, "guitar", ["acoustic guitar", "steel-string guitar", "strummed acoustic guitar"], 40, 79),
    "jazz_guitar": _inst(26, "guitar", ["jazz guitar", "hollow-body guitar"], 40, 79),
    "clean_guitar": _inst(27, "guitar", ["clean electric guitar", "clean guitar", "electric guitar"], 40, 84),
    "muted_guitar": _inst(28, "guitar", ["muted guitar", "funky muted guitar", "palm-muted guitar"], 40, 79),
    "overdrive_guitar": _inst(29, "guitar", ["overdriven guitar", "crunchy guitar", "electric guitar"], 40, 84, True),
    "distortion_guitar": _inst(30, "guitar", ["distorted guitar", "heavy guitar", "distortion guitar"], 40, 84, True),
    "banjo": _inst(105, "guitar", ["banjo"], 48, 81),
    "upright_bass": _inst(32, "bass", ["upright bass", "double bass", "acoustic bass"], 28, 55),
    "finger_bass": _inst(33, "bass", ["bass guitar", "electric bass", "fingered bass"], 28, 55),
    "pick_bass": _inst(34, "bass", ["picked bass", "electric bass", "bass guitar"], 28, 55),
    "fretless_bass": _inst(35, "bass", ["fretless bass"], 28, 55),
    "slap_bass": _inst(36, "bass", ["slap bass", "slapped bass"], 28, 55),
    "slap_bass_2": _inst(37, "bass", ["slap bass", "popping bass"], 28, 55),
    "synth_bass": _inst(38, "bass", ["synth bass", "analog bass"], 28, 55),
    "synth_bass_2": _inst(39, "bass", ["synth bass", "analog synth bass", "acid bass"], 28, 55),
    "violin": _inst(40, "strings", ["violin", "fiddle"], 55, 96, True),
    "cello": _inst(42, "strings", ["cello"], 36, 72, True),
    "contrabass": _inst(43, "strings", ["contrabass", "orchestral double bass"], 28, 55, True),
    "pizzicato": _inst(45, "strings", ["pizzicato strings", "plucked strings"], 43, 84),
    "harp": _inst(46, "strings", ["harp", "orchestral harp"], 36, 91),
    "strings": _inst(48, "strings", ["strings", "string section", "string ensemble"], 43, 88, True),
    "slow_strings": _inst(49, "strings", ["lush strings", "slow strings", "string pad"], 43, 88, True),
    "synth_strings": _inst(50, "synth pad", ["synth strings", "string synth"], 43, 88, True),
    "choir": _inst(52, "choir", ["choir", "choir aahs", "vocal choir"], 48, 79, True),
    "voice_oohs": _inst(53, "choir", ["vocal oohs", "voices", "soft vocal pad"], 48, 79, True),
    "trumpet": _inst(56, "brass", ["trumpet"], 58, 86, True),
    "trombone": _inst(57, "brass", ["trombone"], 43, 72, True),
    "muted_trumpet": _inst(59, "brass", ["muted trumpet", "harmon-muted trumpet"], 58, 84, True),
    "french_horn": _inst(60, "brass", ["french horn", "horns"], 45, 77, True),
    "brass_section": _inst(61, "brass", ["brass section", "horn section", "brass"], 48, 84, True),
    "synth_brass": _inst(62, "brass", ["synth brass", "brassy synth"], 48, 84, True),
    "alto_sax": _inst(65, "reed", ["alto sax", "alto saxophone", "saxophone"], 53, 84, True),
    "tenor_sax": _inst(66, "reed", ["tenor sax", "tenor saxophone", "saxophone"], 46, 78, True),
    "bari_sax": _inst(67, "reed", ["baritone sax", "bari sax"], 36, 67, True),
    "oboe": _inst(68, "reed", ["oboe"], 60, 89, True),
    "clarinet": _inst(71, "reed", ["clarinet"], 52, 88, True),
    "flute": _inst(73, "flute", ["flute"], 62, 96, True),
    "pan_flute": _inst(75, "flute", ["pan flute", "pan pipes"], 60, 91, True),
    "whistle": _inst(78, "flute", ["whistle", "tin whistle"], 67, 96, True),
    "square_lead": _inst(80, "synth lead", ["square lead", "square-wave synth", "chiptune lead"], 55, 91, True),
    "saw_lead": _inst(81, "synth lead", ["saw lead", "sawtooth synth", "synth lead"], 52, 91, True),
    "bass_lead": _inst(87, "synth lead", ["bass and lead synth", "fat synth lead"], 48, 84, True),
    "new_age_pad": _inst(88, "synth pad", ["new age pad", "shimmering pad"], 48, 84, True),
    "warm_pad": _inst(89, "synth pad", ["warm pad", "warm synth pad", "soft pad"], 43, 84, True),
    "polysynth": _inst(90, "synth pad", ["polysynth", "poly synth"], 43, 84, True),
    "choir_pad": _inst(91, "synth pad", ["choir pad", "airy vocal pad"], 48, 84, True),
    "halo_pad": _inst(94, "synth pad", ["halo pad", "ethereal pad"], 48, 84, True),
    "sweep_pad": _inst(95, "synth pad", ["sweep pad", "sweeping pad"], 43, 84, True),
    "timpani": _inst(47, "percussion", ["timpani"], 36, 57),
}

# Bank-128 drum kit presets (General MIDI 2 / GS numbering) and caption phrases.
DRUM_KITS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("Standard Kit", ("drums", "live drums", "a drum kit")),
    8: ("Room Kit", ("roomy drums", "live drums", "drums")),
    16: ("Power Kit", ("punchy drums", "big rock drums", "drums")),
    24: ("Electronic Kit", ("electronic drums", "drum machine")),
    25: ("TR-808 Kit", ("808 drums", "a drum machine", "808 beat")),
    32: ("Jazz Kit", ("jazz drums", "a jazz kit", "drums")),
    40: ("Brush Kit", ("brushed drums", "brushes", "soft drums")),
    48: ("Orchestra Kit", ("orchestral percussion", "concert percussion")),
}


def instrument(key: str) -> Instrument:
    """The instrument registered under ``key``; raises KeyError naming the known keys."""
    try:
        return INSTRUMENTS[key]
    except KeyError:
        raise KeyError(f"unknown corpus instrument {key!r}; known: {sorted(INSTRUMENTS)}") from None


def families() -> tuple[str, ...]:
    """All instrument families, sorted."""
    return tuple(sorted({inst.family for inst in INSTRUMENTS.values()}))
