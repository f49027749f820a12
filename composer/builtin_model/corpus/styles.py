"""The styles the corpus composes: tempo, meter, harmony, instrumentation, feel.

Part options are written "instrument_key:pattern"; patterns are implemented in
``bass_parts.py``, ``chord_parts.py`` and ``lead_parts.py`` (pitched parts) and
grooves in ``drums.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """Everything the arranger needs to write one style."""

    # canonical tag written to metadata ("bossa nova")
    name: str
    # phrases captions use for it; each contains a recognisable style word
    aliases: tuple[str, ...]
    # inclusive tempo range in BPM
    bpm_range: tuple[int, int]
    # beats per bar to draw from (4 -> 4/4, 3 -> 3/4); repeats weight the draw
    meters: tuple[int, ...]
    # modes to draw from ("major", "minor"); repeats weight the draw
    modes: tuple[str, ...]
    # roman-numeral progressions for major keys
    major_progressions: tuple[tuple[str, ...], ...]
    # roman-numeral progressions for minor keys
    minor_progressions: tuple[tuple[str, ...], ...]
    # how many bars each chord lasts (drawn per arrangement)
    bars_per_chord: tuple[float, ...]
    # swing amount: 0 straight, 1/6 full triplet swing
    swing: float
    # subdivision that swings, in beats (0.5 = eighths, 0.25 = sixteenths)
    swing_unit_beats: float
    # groove names from drums.GROOVES (filtered by meter)
    grooves: tuple[str, ...]
    # probability that an arrangement has drums at all
    drum_probability: float
    # bank-128 kit presets to draw from
    drum_kits: tuple[int, ...]
    # "instrument:pattern" options for the bass part
    bass: tuple[str, ...]
    # probability of a bass part
    bass_probability: float
    # "instrument:pattern" options for the chord/comping part
    chords: tuple[str, ...]
    # probability of a chord part
    chords_probability: float
    # instrument keys for a sustained pad
    pads: tuple[str, ...]
    # probability of a pad part
    pad_probability: float
    # "instrument:pattern" options for an arpeggio/ostinato part
    arps: tuple[str, ...]
    # probability of an arpeggio part
    arp_probability: float
    # "instrument:pattern" options for the lead melody (always present)
    leads: tuple[str, ...]
    # melody scale per mode ({"major": ..., "minor": ...} as pairs)
    lead_scales: tuple[tuple[str, str], ...]
    # roles kept besides the lead in a sparse clip, in priority order
    sparse_roles: tuple[str, ...]
    # words for the feel of the style
    moods: tuple[str, ...]
    # reverb send level of melodic parts, 0-1
    reverb_wet: float
    # reverb decay time (RT60-ish) in seconds
    reverb_decay_s: float
    # probability of timpani doubling roots (orchestral colour)
    timpani_probability: float = 0.0

    def lead_scale(self, mode: str) -> str:
        """Melody scale name for ``mode``."""
        return dict(self.lead_scales)[mode]


STYLES: tuple[Style, ...] = (
    Style(
        name="rock",
        aliases=("rock", "rock band", "indie rock", "classic rock"),
        bpm_range=(100, 150), meters=(4,), modes=("major", "major", "minor"),
        major_progressions=(("I", "V", "vi", "IV"), ("I", "IV", "V", "IV"), ("vi", "IV", "I", "V"), ("I", "bVII", "IV", "I")),
        minor_progressions=(("i", "bVI", "bVII", "i"), ("i", "bVII", "bVI", "bVII"), ("i", "iv", "bVII", "i")),
        bars_per_chord=(1.0, 1.0, 2.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("rock_eighths", "rock_drive", "rock_ride"), drum_probability=1.0, drum_kits=(0, 8, 16),
        bass=("finger_bass:roots8", "pick_bass:roots8"), bass_probability=1.0,
        chords=("overdrive_guitar:power8", "distortion_guitar:power8", "clean_guitar:arpeggio8", "piano:block8", "steel_guitar:strum"),
        chords_probability=0.95,
        pads=("rock_organ", "slow_strings"), pad_probability=0.2,
        arps=(), arp_probability=0.0,
        leads=("overdrive_guitar:riff", "distortion_guitar:legato", "rock_organ:riff", "piano:riff", "clean_guitar:legato"),
        lead_scales=(("major", "major_pentatonic"), ("minor", "minor_pentatonic")),
        sparse_roles=("drums", "bass"), moods=("energetic", "powerful", "gritty", "anthemic"),
        reverb_wet=0.18, reverb_decay_s=1.2,
    ),
    Style(
        name="metal",
        aliases=("metal", "heavy metal", "hard-hitting metal"),
        bpm_range=(120, 160), meters=(4,), modes=("minor",),
        major_progressions=(),
        minor_progressions=(("i", "bVI", "bVII", "i"), ("i", "i", "bII", "i"), ("i", "bVII", "bVI", "V"), ("i", "iv", "bVI", "V")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("metal_double", "metal_half"), drum_probability=1.0, drum_kits=(16, 0),
        bass=("pick_bass:roots16", "finger_bass:roots8"), bass_probability=1.0,
        chords=("distortion_guitar:chug16", "overdrive_guitar:chug16"), chords_probability=1.0,
        pads=("choir", "strings"), pad_probability=0.25,
        arps=(), arp_probability=0.0,
        leads=("distortion_guitar:legato", "saw_lead:riff", "overdrive_guitar:riff"),
        lead_scales=(("minor", "phrygian"),),
        sparse_roles=("drums", "chords"), moods=("aggressive", "dark", "heavy", "intense"),
        reverb_wet=0.15, reverb_decay_s=1.0,
    ),
    Style(
        name="funk",
        aliases=("funk", "funky", "70s funk", "funk band"),
        bpm_range=(90, 120), meters=(4,), modes=("major", "minor"),
        major_progressions=(("I9", "I9", "IV9", "I9"), ("I7", "IV7", "I7", "IV7"), ("I9", "bVII9", "I9", "IV9")),
        minor_progressions=(("i7", "IV9", "i7", "IV9"), ("i7", "i7", "iv7", "bVII7"), ("i9", "bVII9", "i9", "IV9")),
        bars_per_chord=(1.0, 2.0), swing=0.03, swing_unit_beats=0.25,
        grooves=("funk_sixteenths", "funk_syncopated"), drum_probability=1.0, drum_kits=(0, 8),
        bass=("slap_bass:syncopated", "slap_bass_2:syncopated", "finger_bass:syncopated", "synth_bass:syncopated"),
        bass_probability=1.0,
        chords=("clavinet:chops16", "muted_guitar:chops16", "rhodes:stabs", "clean_guitar:chops16"), chords_probability=1.0,
        pads=("slow_strings", "synth_strings"), pad_probability=0.15,
        arps=(), arp_probability=0.0,
        leads=("alto_sax:syncopated", "tenor_sax:syncopated", "trumpet:syncopated", "brass_section:riff", "square_lead:syncopated", "rhodes:syncopated"),
        lead_scales=(("major", "mixolydian"), ("minor", "dorian")),
        sparse_roles=("drums", "bass"), moods=("groovy", "tight", "punchy", "playful"),
        reverb_wet=0.12, reverb_decay_s=0.8,
    ),
    Style(
        name="jazz",
        aliases=("jazz", "swing jazz", "jazz swing", "jazz combo"),
        bpm_range=(110, 160), meters=(4, 4, 3), modes=("major", "major", "minor"),
        major_progressions=(("ii7", "V7", "Imaj7", "Imaj7"), ("Imaj7", "vi7", "ii7", "V7"), ("iii7", "vi7", "ii7", "V7"), ("Imaj7", "IV7", "iii7", "VI7")),
        minor_progressions=(("iim7b5", "V7", "i7", "i7"), ("i7", "iv7", "bVII7", "bIIImaj7"), ("i6", "iv7", "iim7b5", "V7")),
        bars_per_chord=(1.0, 0.5), swing=1 / 6, swing_unit_beats=0.5,
        grooves=("jazz_swing", "jazz_waltz"), drum_probability=0.95, drum_kits=(32, 40),
        bass=("upright_bass:walking",), bass_probability=1.0,
        chords=("piano:comp_swing", "jazz_guitar:comp_quarters", "piano:comp_swing"), chords_probability=0.95,
        pads=(), pad_probability=0.0,
        arps=(), arp_probability=0.0,
        leads=("tenor_sax:swing", "alto_sax:swing", "trumpet:swing", "muted_trumpet:swing", "vibraphone:swing", "piano:swing", "jazz_guitar:swing", "trombone:swing", "clarinet:swing"),
        lead_scales=(("major", "major"), ("minor", "dorian")),
        sparse_roles=("bass", "drums"), moods=("swinging", "smoky", "classy", "late-night"),
        reverb_wet=0.2, reverb_decay_s=1.3,
    ),
    Style(
        name="bossa nova",
        aliases=("bossa nova", "bossa", "brazilian bossa nova"),
        bpm_range=(110, 140), meters=(4,), modes=("major", "major", "minor"),
        major_progressions=(("Imaj7", "II7", "ii7", "V7"), ("Imaj7", "vi7", "ii7", "V7"), ("ii7", "V7", "Imaj7", "VI7")),
        minor_progressions=(("i7", "iv7", "V7", "i7"), ("i7", "bVImaj7", "iim7b5", "V7")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("bossa",), drum_probability=0.9, drum_kits=(0, 40),
        bass=("upright_bass:bossa", "fretless_bass:bossa", "finger_bass:bossa"), bass_probability=1.0,
        chords=("nylon_guitar:bossa_comp", "piano:bossa_comp", "rhodes:bossa_comp"), chords_probability=1.0,
        pads=("slow_strings",), pad_probability=0.25,
        arps=(), arp_probability=0.0,
        leads=("flute:legato", "alto_sax:legato", "nylon_guitar:legato", "vibraphone:legato", "piano:legato", "tenor_sax:legato"),
        lead_scales=(("major", "major"), ("minor", "minor")),
        sparse_roles=("chords", "bass"), moods=("breezy", "gentle", "sunny", "relaxed"),
        reverb_wet=0.2, reverb_decay_s=1.2,
    ),
    Style(
        name="house",
        aliases=("house", "deep house", "house music", "four-on-the-floor house"),
        bpm_range=(118, 128), meters=(4,), modes=("minor", "minor", "major"),
        major_progressions=(("IVmaj7", "V", "iii7", "vi7"), ("Imaj7", "IVmaj7", "Imaj7", "IVmaj7"), ("vi7", "IVmaj7", "Imaj7", "V")),
        minor_progressions=(("i7", "iv7", "i7", "bVIImaj7"), ("i9", "iv9", "i9", "iv9"), ("i7", "bVII", "bVI", "bVII")),
        bars_per_chord=(1.0, 2.0), swing=0.02, swing_unit_beats=0.25,
        grooves=("house_four", "house_shaker"), drum_probability=1.0, drum_kits=(25, 24, 0),
        bass=("synth_bass:offbeat", "synth_bass_2:offbeat", "finger_bass:syncopated", "synth_bass:syncopated"), bass_probability=1.0,
        chords=("piano:stabs", "rhodes:stabs", "organ:stabs", "fm_piano:stabs"), chords_probability=0.95,
        pads=("warm_pad", "sweep_pad", "synth_strings"), pad_probability=0.6,
        arps=("fm_piano:arpeggio16", "square_lead:arpeggio16"), arp_probability=0.2,
        leads=("piano:riff", "saw_lead:riff", "square_lead:riff", "fm_piano:riff", "synth_brass:riff", "organ:riff"),
        lead_scales=(("major", "major"), ("minor", "minor")),
        sparse_roles=("drums", "bass"), moods=("uplifting", "hypnotic", "warm", "danceable"),
        reverb_wet=0.18, reverb_decay_s=1.2,
    ),
    Style(
        name="techno",
        aliases=("techno", "minimal techno", "peak-time techno", "warehouse techno"),
        bpm_range=(124, 140), meters=(4,), modes=("minor",),
        major_progressions=(),
        minor_progressions=(("i", "i", "i", "i"), ("i", "bVI", "i", "bVII"), ("i7", "i7", "iv7", "iv7"), ("i", "bII", "i", "i")),
        bars_per_chord=(2.0, 4.0), swing=0.0, swing_unit_beats=0.25,
        grooves=("techno_drive", "techno_rolling"), drum_probability=1.0, drum_kits=(25, 24),
        bass=("synth_bass_2:rolling16", "synth_bass:rolling16", "synth_bass_2:offbeat"), bass_probability=1.0,
        chords=("polysynth:stabs", "perc_organ:stabs", "synth_brass:stabs"), chords_probability=0.5,
        pads=("sweep_pad", "halo_pad", "warm_pad"), pad_probability=0.6,
        arps=("square_lead:arpeggio16", "saw_lead:arpeggio16"), arp_probability=0.35,
        leads=("square_lead:sequence", "saw_lead:sequence", "bass_lead:sequence", "synth_brass:sequence"),
        lead_scales=(("minor", "minor"),),
        sparse_roles=("drums", "bass"), moods=("hypnotic", "dark", "relentless", "industrial"),
        reverb_wet=0.2, reverb_decay_s=1.4,
    ),
    Style(
        name="lofi hip hop",
        aliases=("lo-fi hip hop", "lofi hip hop", "lo-fi", "chill hip hop", "lofi"),
        bpm_range=(70, 92), meters=(4,), modes=("major", "minor"),
        major_progressions=(("IVmaj7", "iii7", "ii9", "Imaj9"), ("ii9", "V9", "Imaj9", "vi9"), ("Imaj7", "iii7", "vi7", "IVmaj7")),
        minor_progressions=(("i9", "iv9", "bVIImaj7", "bIIImaj7"), ("iim7b5", "V7", "i9", "i9"), ("i7", "bVImaj7", "iv7", "V7")),
        bars_per_chord=(1.0, 2.0), swing=0.09, swing_unit_beats=0.25,
        grooves=("boom_bap", "lofi_lazy"), drum_probability=1.0, drum_kits=(0, 25, 40),
        bass=("finger_bass:syncopated", "upright_bass:syncopated", "fretless_bass:sustained", "synth_bass:sustained"), bass_probability=0.9,
        chords=("rhodes:push", "piano:push", "jazz_guitar:arpeggio8", "clean_guitar:arpeggio8", "rhodes:push"), chords_probability=1.0,
        pads=("voice_oohs", "warm_pad"), pad_probability=0.25,
        arps=(), arp_probability=0.0,
        leads=("vibraphone:sparse", "rhodes:legato", "flute:legato", "clean_guitar:sparse", "music_box:sparse", "alto_sax:legato"),
        lead_scales=(("major", "major_pentatonic"), ("minor", "minor_pentatonic")),
        sparse_roles=("drums", "chords"), moods=("laid-back", "dreamy", "mellow", "nostalgic"),
        reverb_wet=0.22, reverb_decay_s=1.3,
    ),
    Style(
        name="reggae",
        aliases=("reggae", "roots reggae", "one-drop reggae"),
        bpm_range=(70, 95), meters=(4,), modes=("major", "minor"),
        major_progressions=(("I", "IV", "V", "IV"), ("I", "IV", "I", "V"), ("I", "vi", "IV", "V")),
        minor_progressions=(("i", "iv", "i", "v"), ("i", "bVII", "bVI", "bVII"), ("i", "iv", "bVII", "i")),
        bars_per_chord=(1.0, 2.0), swing=0.05, swing_unit_beats=0.25,
        grooves=("one_drop", "steppers"), drum_probability=1.0, drum_kits=(0, 8),
        bass=("finger_bass:reggae", "fretless_bass:reggae"), bass_probability=1.0,
        chords=("clean_guitar:skank", "organ:skank", "piano:skank"), chords_probability=1.0,
        pads=("organ",), pad_probability=0.35,
        arps=(), arp_probability=0.0,
        leads=("organ:legato", "trumpet:legato", "trombone:legato", "harmonica:legato", "tenor_sax:legato", "clean_guitar:riff"),
        lead_scales=(("major", "major_pentatonic"), ("minor", "minor_pentatonic")),
        sparse_roles=("bass", "drums"), moods=("laid-back", "sunny", "easy-going", "uplifting"),
        reverb_wet=0.22, reverb_decay_s=1.2,
    ),
    Style(
        name="blues",
        aliases=("blues", "shuffle blues", "electric blues", "twelve-bar blues"),
        bpm_range=(70, 120), meters=(4,), modes=("major", "major", "minor"),
        major_progressions=(("I7", "IV7", "I7", "I7", "IV7", "IV7", "I7", "I7", "V7", "IV7", "I7", "V7"),),
        minor_progressions=(("i7", "iv7", "i7", "i7", "iv7", "iv7", "i7", "i7", "bVI7", "V7", "i7", "V7"),),
        bars_per_chord=(1.0,), swing=1 / 6, swing_unit_beats=0.5,
        grooves=("blues_shuffle", "blues_ride"), drum_probability=1.0, drum_kits=(0, 8, 40),
        bass=("finger_bass:boogie", "upright_bass:walking", "finger_bass:walking"), bass_probability=1.0,
        chords=("piano:comp_swing", "clean_guitar:shuffle", "overdrive_guitar:shuffle", "rock_organ:sustain"), chords_probability=1.0,
        pads=("organ",), pad_probability=0.3,
        arps=(), arp_probability=0.0,
        leads=("harmonica:swing", "overdrive_guitar:swing", "clean_guitar:swing", "piano:swing", "tenor_sax:swing", "rock_organ:swing"),
        lead_scales=(("major", "blues"), ("minor", "blues")),
        sparse_roles=("bass", "drums"), moods=("soulful", "gritty", "bluesy", "smoky"),
        reverb_wet=0.18, reverb_decay_s=1.1,
    ),
    Style(
        name="ambient",
        aliases=("ambient", "ambient soundscape", "atmospheric ambient", "ambient drone"),
        bpm_range=(70, 100), meters=(4, 4, 3), modes=("major", "minor"),
        major_progressions=(("Imaj7", "IVmaj7"), ("Iadd9", "vi7", "IVmaj7", "Iadd9"), ("IVmaj7", "Imaj7", "vi9", "Vsus4")),
        minor_progressions=(("i9", "bVImaj7"), ("i", "bVI", "bIII", "bVII"), ("isus2", "bVImaj7", "iv9", "isus2")),
        bars_per_chord=(2.0, 2.0, 1.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("ambient_pulse", "ambient_waltz"), drum_probability=0.3, drum_kits=(0, 40),
        bass=("fretless_bass:sustained", "contrabass:sustained", "synth_bass:sustained"), bass_probability=0.5,
        chords=("piano:arpeggio8", "harp:arpeggio8", "nylon_guitar:arpeggio8", "rhodes:sustain"), chords_probability=0.6,
        pads=("new_age_pad", "warm_pad", "halo_pad", "choir_pad", "slow_strings", "choir", "voice_oohs"), pad_probability=1.0,
        arps=("celesta:arpeggio8", "harp:arpeggio8", "music_box:arpeggio8", "fm_piano:arpeggio8"), arp_probability=0.35,
        leads=("celesta:sparse", "glockenspiel:sparse", "music_box:sparse", "vibraphone:sparse", "piano:sparse", "flute:legato", "pan_flute:legato"),
        lead_scales=(("major", "major_pentatonic"), ("minor", "minor")),
        sparse_roles=("pad",), moods=("calm", "ethereal", "spacious", "meditative"),
        reverb_wet=0.45, reverb_decay_s=2.5,
    ),
    Style(
        name="orchestral",
        aliases=("orchestral", "cinematic orchestral", "orchestra", "classical orchestral"),
        bpm_range=(70, 140), meters=(4, 4, 3), modes=("major", "minor"),
        major_progressions=(("I", "vi", "IV", "V"), ("I", "V", "vi", "iii", "IV", "I", "IV", "V"), ("I", "IV", "ii", "V")),
        minor_progressions=(("i", "bVI", "bIII", "bVII"), ("i", "iv", "V", "i"), ("i", "bVI", "iv", "V")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("orchestral_march", "orchestral_waltz"), drum_probability=0.4, drum_kits=(48,),
        bass=("contrabass:root_fifth", "cello:root_fifth", "contrabass:sustained"), bass_probability=1.0,
        chords=("strings:sustain", "pizzicato:arpeggio8", "harp:arpeggio16", "french_horn:sustain"), chords_probability=1.0,
        pads=("slow_strings", "choir", "voice_oohs"), pad_probability=0.6,
        arps=("pizzicato:arpeggio8", "harp:arpeggio16", "glockenspiel:arpeggio8"), arp_probability=0.3,
        leads=("flute:legato", "oboe:legato", "clarinet:legato", "french_horn:legato", "trumpet:legato", "violin:legato", "cello:legato", "glockenspiel:sparse"),
        lead_scales=(("major", "major"), ("minor", "harmonic_minor")),
        sparse_roles=("chords", "bass"), moods=("epic", "majestic", "tender", "dramatic"),
        reverb_wet=0.35, reverb_decay_s=2.2, timpani_probability=0.5,
    ),
    Style(
        name="afrobeat",
        aliases=("afrobeat", "afro-funk", "west african afrobeat"),
        bpm_range=(100, 125), meters=(4,), modes=("minor", "minor", "major"),
        major_progressions=(("I7", "I7", "IV7", "IV7"), ("I7", "bVII", "I7", "IV")),
        minor_progressions=(("i7", "i7", "IV7", "IV7"), ("i7", "bVII", "i7", "bVII"), ("i7", "iv7", "i7", "iv7")),
        bars_per_chord=(1.0, 2.0), swing=0.02, swing_unit_beats=0.25,
        grooves=("afrobeat", "afrobeat_shaker"), drum_probability=1.0, drum_kits=(0, 8),
        bass=("finger_bass:syncopated", "pick_bass:syncopated"), bass_probability=1.0,
        chords=("clean_guitar:chops16", "muted_guitar:chops16", "organ:stabs", "rhodes:stabs"), chords_probability=1.0,
        pads=("organ",), pad_probability=0.3,
        arps=("muted_guitar:arpeggio16", "marimba:arpeggio16"), arp_probability=0.3,
        leads=("tenor_sax:riff", "bari_sax:riff", "trumpet:riff", "brass_section:riff", "organ:riff", "clean_guitar:riff"),
        lead_scales=(("major", "mixolydian"), ("minor", "dorian")),
        sparse_roles=("drums", "bass"), moods=("hypnotic", "joyful", "energetic", "polyrhythmic"),
        reverb_wet=0.14, reverb_decay_s=1.0,
    ),
    Style(
        name="disco",
        aliases=("disco", "70s disco", "dancefloor disco"),
        bpm_range=(110, 130), meters=(4,), modes=("major", "minor"),
        major_progressions=(("Imaj7", "ii7", "iii7", "ii7"), ("vi7", "ii7", "V7", "Imaj7"), ("IVmaj7", "iii7", "ii7", "Imaj7")),
        minor_progressions=(("i7", "iv7", "bVII7", "bIIImaj7"), ("i7", "bVIImaj7", "i7", "bVIImaj7")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.25,
        grooves=("disco",), drum_probability=1.0, drum_kits=(0, 8),
        bass=("finger_bass:octaves8", "synth_bass:octaves8", "slap_bass:octaves8"), bass_probability=1.0,
        chords=("muted_guitar:chops16", "piano:stabs", "rhodes:stabs", "strings:stabs"), chords_probability=1.0,
        pads=("strings", "slow_strings"), pad_probability=0.5,
        arps=(), arp_probability=0.0,
        leads=("strings:riff", "brass_section:riff", "piano:riff", "synth_brass:riff", "rhodes:riff", "alto_sax:riff"),
        lead_scales=(("major", "major"), ("minor", "dorian")),
        sparse_roles=("drums", "bass"), moods=("glittering", "danceable", "upbeat", "glamorous"),
        reverb_wet=0.18, reverb_decay_s=1.2,
    ),
    Style(
        name="synthwave",
        aliases=("synthwave", "retro synthwave", "80s synthwave", "outrun synthwave"),
        bpm_range=(80, 118), meters=(4,), modes=("minor", "minor", "major"),
        major_progressions=(("I", "V", "vi", "IV"), ("vi", "IV", "I", "V")),
        minor_progressions=(("i", "bVI", "bIII", "bVII"), ("i", "bVII", "bVI", "bVII"), ("bVI", "bVII", "i", "i")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.25,
        grooves=("synthwave", "synthwave_drive"), drum_probability=1.0, drum_kits=(24, 25, 16),
        bass=("synth_bass_2:pulse8", "synth_bass:pulse8", "synth_bass_2:octaves8"), bass_probability=1.0,
        chords=("polysynth:sustain", "fm_piano:stabs", "synth_strings:sustain", "polysynth:block8"), chords_probability=0.9,
        pads=("warm_pad", "polysynth", "synth_strings", "sweep_pad"), pad_probability=0.8,
        arps=("square_lead:arpeggio16", "saw_lead:arpeggio16", "fm_piano:arpeggio16"), arp_probability=0.45,
        leads=("saw_lead:legato", "square_lead:legato", "synth_brass:riff", "fm_piano:riff", "bass_lead:legato"),
        lead_scales=(("major", "major"), ("minor", "minor")),
        sparse_roles=("drums", "bass"), moods=("nostalgic", "neon", "cinematic", "retro"),
        reverb_wet=0.28, reverb_decay_s=1.8,
    ),
    Style(
        name="folk",
        aliases=("folk", "acoustic folk", "folk song", "country folk"),
        bpm_range=(80, 130), meters=(4, 3), modes=("major", "major", "minor"),
        major_progressions=(("I", "IV", "I", "V"), ("I", "V", "vi", "IV"), ("I", "IV", "V", "I"), ("I", "vi", "IV", "V")),
        minor_progressions=(("i", "bVII", "bVI", "bVII"), ("i", "bIII", "bVII", "i"), ("i", "iv", "i", "V")),
        bars_per_chord=(1.0, 2.0), swing=0.0, swing_unit_beats=0.5,
        grooves=("folk_train", "folk_waltz"), drum_probability=0.6, drum_kits=(0, 40),
        bass=("upright_bass:root_fifth", "finger_bass:root_fifth"), bass_probability=0.85,
        chords=("steel_guitar:strum", "nylon_guitar:arpeggio8", "accordion:oompah", "piano:oompah", "steel_guitar:strum"), chords_probability=1.0,
        pads=("accordion", "slow_strings"), pad_probability=0.15,
        arps=("banjo:arpeggio8", "steel_guitar:arpeggio8"), arp_probability=0.3,
        leads=("violin:legato", "harmonica:legato", "accordion:legato", "banjo:riff", "flute:legato", "whistle:legato", "steel_guitar:legato"),
        lead_scales=(("major", "major_pentatonic"), ("minor", "minor")),
        sparse_roles=("chords", "bass"), moods=("warm", "rustic", "heartfelt", "homely"),
        reverb_wet=0.2, reverb_decay_s=1.2,
    ),
)


def style_named(name: str) -> Style:
    """The style called ``name``; raises KeyError naming the known styles."""
    for style in STYLES:
        if style.name == name:
            return style
    raise KeyError(f"unknown corpus style {name!r}; known: {[s.name for s in STYLES]}")


def split_option(option: str) -> tuple[str, str]:
    """Split "instrument:pattern" into its two halves."""
    instrument_key, _, pattern = option.partition(":")
    return instrument_key, pattern
