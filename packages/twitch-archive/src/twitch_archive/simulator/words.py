"""The generator's built-in vocabulary: plain words, Twitch global emotes, emoji and name parts.

Written for the simulator; nothing here comes from a capture.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORDS: tuple[str, ...] = _split(
    """
    a about actually again ago all almost already also always am and any anyone are around as at
    away back bad based been before best better big bit boss break but buy call calm came can
    cant chat check chill clean clip close come cool could crazy cute dead did didnt do does dog
    dont down easy else end enough even ever every fair far fast few fight final fine first fix
    for found free friend from fun funny game gave get give go gone good got great guys had hard
    has have he hear hello help her here hey him his hit hold home how huge i idea if im in
    insane is it its just keep kind know last late later left let level like literally little
    live lol long look loot lost lot love luck mad made main make man map match maybe me mean
    mid mod more most move much must my never new next nice night no noob not nothing now of off
    ok okay old on once one only open or other our out over pause people play please point
    poggers power pretty quick quite ran rank read ready real really rip round run said same
    save saw say see seen send set she shot should show side since skill skip so some soon sound
    speed start stay still stop stream strong sure take talk team than thanks that the their
    them then there they thing think this those though time to today told too top true try turn
    two uh under up us use very wait want was watch way we well went were what when where which
    while who why will win with wow yeah yes yet you your
    """
)

EMOTES: tuple[tuple[str, str], ...] = (
    ("Kappa", "25"),
    ("Kreygasm", "41"),
    ("4Head", "354"),
    ("BibleThump", "86"),
    ("DansGame", "33"),
    ("FailFish", "360"),
    ("SMOrc", "52"),
    ("ResidentSleeper", "245"),
    ("SwiftRage", "34"),
    ("PJSalt", "36"),
    ("MrDestructoid", "28"),
    ("BabyRage", "22639"),
    ("LUL", "425618"),
    ("NotLikeThis", "58765"),
    ("SeemsGood", "64138"),
    ("CoolStoryBob", "123171"),
    ("HeyGuys", "30259"),
    ("VoHiYo", "81274"),
    ("Jebaited", "114836"),
    ("BloodTrail", "69"),
    ("WutFace", "28087"),
    ("KappaPride", "55338"),
    ("CoolCat", "58127"),
    ("PogChamp", "305954156"),
    ("Keepo", "1902"),
    ("CatBag", "emotesv2_5c1b5c9b6a0e4d6f9a3c2b7e8f1d4a62"),
    ("GlitchCat", "304486301"),
    ("TwitchUnity", "196892"),
)
"""(code, id): Twitch global emotes; ids are strings and may be non-numeric (emotesv2_...)."""

EMOJI: tuple[str, ...] = ("😂", "🤣", "👍", "🔥", "😭", "💀", "🙏", "😳", "🤔", "👀", "🎉", "😎")
"""Characters outside the Basic Multilingual Plane: one code point each, two UTF-16 units."""

NAME_PARTS: tuple[str, ...] = _split(
    """
    amber ash autumn bear birch blaze bolt brook cedar cloud comet coral crow dawn delta drift
    dusk echo ember fable falcon fern flint fox frost gale ghost glade hawk haze iris ivy jade
    jet kite lark leaf lime lotus lunar maple marsh mint moss nova oak onyx orbit otter pebble
    pine pixel plum quartz quill rain raven reef river rook rust sage sand shade sky slate snow
    spark storm stone swift thorn tide timber violet wave willow wind wolf wren zephyr
    """
)
"""Parts of generated logins (`quietotter`, `ember_fox42`)."""

NAME_ADJECTIVES: tuple[str, ...] = _split(
    """
    big bold brave calm clever cosmic crisp daring dizzy eager fancy fuzzy gentle happy hidden
    jolly keen lazy lucky mellow mighty misty noble odd plain proud quick quiet rapid rusty
    salty shy silent sleepy sly smooth sneaky spicy steady sunny swift tiny wild witty
    """
)

DEFAULT_COLORS: tuple[str, ...] = (
    "#FF0000",
    "#0000FF",
    "#008000",
    "#B22222",
    "#FF7F50",
    "#9ACD32",
    "#FF4500",
    "#2E8B57",
    "#DAA520",
    "#D2691E",
    "#5F9EA0",
    "#1E90FF",
    "#FF69B4",
    "#8A2BE2",
    "#00FF7F",
)
"""Twitch's default chat colors; chosen colors are otherwise any #RRGGBB."""

CHEER_PREFIX = "Cheer"
"""Cheermote prefix: `Cheer100` in the text carries 100 bits."""
