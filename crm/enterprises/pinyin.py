"""The pinyin keys of a firm's name, so that a cadre can find a file by typing `yuantong` or
`ytsd` for 圆通速递: the full syllables run together (`name_pinyin`) and their first letters
(`name_initials`), lower-case, without tones, ü as v (绿 lv, as pinyin keyboards take it).

Latin letters and digits in a name are kept as they are, in both keys (JD京东: jdjingdong, jdjd;
58同城: 58tongcheng, 58tc); punctuation and spaces are left out, so 北京（大兴）科技 is
beijingdaxingkeji. A character with several readings gets pypinyin's reading, which looks at the
words around it (银行 yinhang, 重庆 chongqing, 会计 kuaiji, 厦门 xiamen, 大厦 dasha); for the
few words of firms' names it reads otherwise the readings are set below, once, at import.

The keys are computed when a name is written (crm.enterprises.services, the migration that added
them, the district data set) and searched through the indexes (crm.enterprises.search); a search
term is converted here only when it mixes Chinese and Latin letters (圆通sd).
"""
import re

from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict

from crm.common.text import nfkc

# A single 长 or 行 in a firm's name is far more often cháng (长城, 长丰, 长盛) and háng (车行,
# 琴行, 乐器行, 大兴支行) than the readings pypinyin puts first; the words that read otherwise
# (董事长, 厂长, 行政, 旅行社, 执行) are in its phrase dictionary and keep their reading.
load_single_dict({ord("长"): "cháng,zhǎng", ord("行"): "háng,xíng"})
# Names its phrase dictionary reads another way: 朝阳 (the district, not zhāoyáng), 呷哺.
load_phrases_dict({"朝阳": [["cháo"], ["yáng"]], "呷哺": [["xiā"], ["bǔ"]]})

_OTHER = "\x00"  # marks what is not a Chinese character (kept as it is, letters and digits only)
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def _syllables(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: _OTHER + chars)


def keys(name: str | None) -> tuple[str, str]:
    """(full pinyin, initials) of a name: 圆通速递宜家站 → ("yuantongsudiyijiazhan", "ytsdyjz")."""
    full, initials = [], []
    for item in _syllables(nfkc(name or "").lower()):
        if item.startswith(_OTHER):
            kept = _NOT_KEY.sub("", item)
            full.append(kept)
            initials.append(kept)
        else:
            syllable = _NOT_KEY.sub("", item)
            full.append(syllable)
            initials.append(syllable[:1])
    return "".join(full), "".join(initials)


def columns(name: str | None) -> dict:
    """The enterprise's key columns for this name, as a service writes them."""
    full, initials = keys(name)
    return {"name_pinyin": full, "name_initials": initials}
