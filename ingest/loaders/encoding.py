"""Bytes to text for every text-like format, with binary-junk detection.

Order: BOM, strict UTF-8, BOM-less UTF-16, then legacy code pages. charset-normalizer mis-guesses
short Chinese (GBK read as cp949) and Western text (cp1252 read as cp1250), so Chinese candidates
(gb18030, Big5/cp950) are scored first by how many common Han characters they produce, and Western
single-byte guesses are pinned to cp1252 when it decodes cleanly.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from rag_core.errors import DocumentError
from rag_core.scripts import HAN

_SAMPLE = 64 * 1024
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")
_HAN = re.compile(f"[{HAN}]")
_COMMON_HAN = re.compile(
    "["
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道"
    "行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无"
    "力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等"
    "产或新己制身果加西月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口"
    "认条平系气题活更别打女变四总何电数安少报才结反受目太量再感建务做接必场件计管期市直资命山金指许统区保至队形"
    "社便空决治展科司五基书非则白界达光放强即像难且权思王象完设式色路记南品住告类求据程北边张该交规万取格望术领"
    "共确传师观清今切院让识候带导争运风步改收根造言联持组每济车亲极林服快办议往元证近失转令准布始存未远台单影具"
    "字爱流备连调深商算质团集百需价花党华城级整府离况请技际约示复病息究线似官火断精满支视消越器容照须九增研写称"
    "企八功包片史委查轻易早除农找装广显假年政策册週周"
    "這個們來為國時說會對過發後裡當沒動現還進樣開從軍無機與長實點業將兩間應戰頭體見產製東聲義處認條氣題變總電數"
    "報結務場計員經學種於麼話給門線解質團價黨華級離況請際約複視傳師觀識帶導爭運風聯組濟車親極辦議轉準單遠愛備調"
    "區統隊歷書則權記類據邊張該規萬術領確廣顯農裝讓選語參與覺"
    "]"
)
_NON_ASCII = re.compile("[^\x00-\x7f]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
_WESTERN = frozenset(
    {
        "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_1", "iso8859_2", "iso8859_9",
        "iso8859_13", "iso8859_15", "mac_roman", "mac_latin2", "cp850", "cp437", "cp858", "ascii",
    }
)  # fmt: skip


def junk_error(name: str, why: str) -> DocumentError:
    return DocumentError(
        f"{name} does not contain text ({why})",
        hint="the file looks binary or corrupt; check that its extension matches its content",
    )


def decode_bytes(data: bytes, name: str = "file") -> tuple[str, str]:
    """Decode a text file's bytes. Returns (text, codec). Raises DocumentError for binary junk."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _checked(data[len(bom) :].decode(codec, errors="replace"), name), codec + "-sig"
    sample = data[:_SAMPLE]
    utf16 = _sniff_utf16(sample)
    if utf16:
        return _checked(data.decode(utf16, errors="replace"), name), utf16
    try:
        return _checked(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(sample):
        return _checked(data.decode("utf-8", errors="replace"), name), "utf-8"
    if b"\x00" in sample:
        raise junk_error(name, "NUL bytes")
    legacy = _guess_legacy(sample)
    if legacy is None:
        raise junk_error(name, "no known text encoding fits")
    return _checked(data.decode(legacy, errors="replace"), name), legacy


def _checked(text: str, name: str) -> str:
    head = text[:_SAMPLE]
    if "\x00" in head:
        raise junk_error(name, "NUL bytes")
    if head and len(_CONTROL.findall(head)) > 0.02 * len(head):
        raise junk_error(name, "mostly control characters or undecodable bytes")
    return text


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few damaged bytes (or a sample cut mid-character) stays UTF-8."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    return good > 0 and bad <= max(2, good // 100)


def _sniff_utf16(sample: bytes) -> str | None:
    head = sample[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.02:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.02:
        return "utf-16-be"
    return None


def _guess_legacy(sample: bytes) -> str | None:
    runs = _HIGH_RUNS.findall(sample)
    high = sum(len(r) for r in runs)
    if high and sum(len(r) for r in runs if len(r) >= 4) >= 0.5 * high:
        best: tuple[float, str] | None = None
        for codec in ("gb18030", "cp950"):
            score = _han_score(sample, codec)
            if score >= 0.15 and (best is None or score > best[0]):
                best = (score, codec)
        if best:
            return best[1]
    match = charset_normalizer.from_bytes(sample).best()
    if match is None:
        return None
    codec = codecs.lookup(match.encoding).name.replace("-", "_")
    if codec in _WESTERN or codec.startswith("iso8859"):
        try:
            sample.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return match.encoding


def _han_score(sample: bytes, codec: str) -> float:
    try:
        text = codecs.getincrementaldecoder(codec)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return 0.0
    han = len(_HAN.findall(text))
    return len(_COMMON_HAN.findall(text)) / han if han else 0.0
