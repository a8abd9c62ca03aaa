"""English names for Chinese place names, generated offline.

`english_name("朝阳区", "district")` is "Chaoyang District", `english_name("山南市", "city")` is "Shannan". A name is
split into a proper part and an administrative suffix; the proper part is written in Hanyu Pinyin the way place
names are (syllables joined, first letter capital, an apostrophe before a syllable that starts with a, o or e:
Xi'an, Lu'an; ü kept after l and n: Lüliang), the suffix is translated (区 District, 县 County, 自治州 Autonomous
Prefecture, ...), and the ethnic groups of an autonomous division are named in English (延边朝鲜族自治州: Yanbian
Korean Autonomous Prefecture).

Polyphonic characters take their place-name reading: PLACE_READINGS (words and characters, longest match first)
overrides pypinyin, which reads the rest with its own phrase dictionary. Nothing is translated literally (黑河 is
Heihe, never Black River), and exonyms (乌鲁木齐 Urumqi, 拉萨 Lhasa) are not produced: they are the reviewed names
in reviewed_city_names.csv, which this generator only approximates (乌鲁木齐 gives Wulumuqi).
"""

from __future__ import annotations

from typing import Literal

from pypinyin import Style, lazy_pinyin

Level = Literal["city", "district"]

# Administrative suffixes, longest first. 市 is "City" for a county-level city and dropped for a prefecture-level
# one (山南市 is "Shannan"); every other suffix is kept at either level.
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("自治县", "Autonomous County"),
    ("自治州", "Autonomous Prefecture"),
    ("自治旗", "Autonomous Banner"),
    ("林区", "Forestry District"),  # only with kind 林区: 碑林区 is Beilin District
    ("特区", "Special District"),  # only with kind 特区
    ("新区", "New Area"),  # only after two characters or more: 清新区 is Qingxin District
    ("矿区", "Mining District"),  # only after two characters or more: 阳泉's 矿区 is Kuang District
    ("地区", "Prefecture"),
    ("区", "District"),
    ("县", "County"),
    ("旗", "Banner"),
    ("盟", "League"),
    ("市", "City"),
)

# The 55 minority groups and the Han, by their Chinese name without 族, in the English that ethnographic and
# official English sources use. 各族 ("of all groups", 龙胜各族自治县) is "Multi-ethnic".
ETHNIC_GROUPS: dict[str, str] = {
    "壮": "Zhuang", "回": "Hui", "满": "Manchu", "维吾尔": "Uyghur", "苗": "Miao", "彝": "Yi", "土家": "Tujia",
    "藏": "Tibetan", "蒙古": "Mongol", "侗": "Dong", "布依": "Buyei", "瑶": "Yao", "白": "Bai", "朝鲜": "Korean",
    "哈尼": "Hani", "黎": "Li", "哈萨克": "Kazakh", "傣": "Dai", "畲": "She", "傈僳": "Lisu", "东乡": "Dongxiang",
    "仡佬": "Gelao", "拉祜": "Lahu", "佤": "Va", "水": "Sui", "纳西": "Naxi", "羌": "Qiang", "土": "Tu",
    "仫佬": "Mulao", "锡伯": "Xibe", "柯尔克孜": "Kyrgyz", "景颇": "Jingpo", "达斡尔": "Daur", "撒拉": "Salar",
    "布朗": "Blang", "毛南": "Maonan", "塔吉克": "Tajik", "普米": "Pumi", "阿昌": "Achang", "怒": "Nu",
    "鄂温克": "Evenk", "京": "Gin", "基诺": "Jino", "德昂": "De'ang", "保安": "Bonan", "俄罗斯": "Russian",
    "裕固": "Yugur", "乌孜别克": "Uzbek", "门巴": "Monpa", "鄂伦春": "Oroqen", "独龙": "Derung", "赫哲": "Hezhen",
    "高山": "Gaoshan", "珞巴": "Lhoba", "塔塔尔": "Tatar", "汉": "Han", "各": "Multi-ethnic",
}  # fmt: skip

# The position in a banner's name (科尔沁左翼中旗: Horqin Left Middle Banner), longest first.
BANNER_PARTS: tuple[tuple[str, str], ...] = (
    ("左翼前", "Left Front"), ("左翼中", "Left Middle"), ("左翼后", "Left Rear"),
    ("右翼前", "Right Front"), ("右翼中", "Right Middle"), ("右翼后", "Right Rear"),
    ("联合", "United"), ("前", "Front"), ("中", "Middle"), ("后", "Rear"), ("左", "Left"), ("右", "Right"),
)  # fmt: skip

# Place-name readings where pypinyin's everyday reading is wrong: whole words for a character read one way in
# one place and another elsewhere (六安 Lu'an but 六盘水 Liupanshui), single characters for those read one way
# in every place name of the divisions (漯 luo). Syllables without tones.
PLACE_READINGS: dict[str, tuple[str, ...]] = {
    "长": ("chang",),  # 长治 Changzhi, 长垣 Changyuan
    "长子": ("zhang", "zi"),
    "朝": ("chao",),  # 朝阳 Chaoyang
    "都": ("du",),  # 郫都 Pidu, 都兰 Dulan
    "乐": ("le",),
    "乐亭": ("lao", "ting"),
    "乐清": ("yue", "qing"),
    "会": ("hui",),
    "漯": ("luo",),
    "蚌": ("beng",),
    "六安": ("lu", "an"),
    "六合": ("lu", "he"),
    "涡": ("guo",),  # 涡阳 Guoyang
    "莘": ("shen",),  # 莘县 Shen County
    "单": ("shan",),  # 单县 Shan County
    "洪洞": ("hong", "tong"),
    "崆峒": ("kong", "tong"),
    "浚": ("xun",),  # 浚县 Xun County
    "荥经": ("ying", "jing"),
    "筠": ("jun",),  # 筠连 Junlian
    "宕": ("tan",),  # 宕昌 Tanchang
    "东阿": ("dong", "e"),
    "闵行": ("min", "hang"),
    "泊": ("bo",),  # 泊头 Botou
    "柏": ("bai",),  # 万柏林 Wanbailin (pypinyin reads 柏林 as Berlin), 柏乡 Baixiang
    "什": ("shi",),  # 什邡 Shifang, 乌什 Wushi
    "覃": ("qin",),  # 覃塘 Qintang
    "尾": ("wei",),  # 马尾 Mawei (pypinyin reads 马尾 as horsehair, mayi)
    "圩": ("xu",),  # 龙圩 Longxu
    "蔚": ("yu",),  # 蔚县 Yu County
    "伽": ("jia",),  # 伽师 Jiashi
    "曾": ("zeng",),  # 曾都 Zengdu
    "卡": ("ka",),  # 浪卡子 Langkazi
    "珲": ("hun",),  # 珲春 Hunchun
    "勒": ("le",),  # 克孜勒苏 Kezilesu, 阿勒泰 Aletai, 锡林郭勒 Xilinguole
    "棱": ("ling",),  # 穆棱 Muling
    "繁峙": ("fan", "shi"),
}

# The division types that have one member each and whose suffix is otherwise part of a name.
KINDS_BY_NAME: dict[str, str] = {"神农架林区": "林区", "六枝特区": "特区"}


def _syllables(stem: str, place_readings: bool = True) -> list[str]:
    """The pinyin syllables of a proper name: PLACE_READINGS by longest match, pypinyin for the runs between
    (pypinyin alone when `place_readings` is false: how much the table adds is measured that way)."""
    if not place_readings:
        return lazy_pinyin(stem, style=Style.NORMAL, v_to_u=True)
    longest = max(map(len, PLACE_READINGS))
    out: list[str] = []
    run = ""
    i = 0
    while i < len(stem):
        for size in range(min(longest, len(stem) - i), 0, -1):
            reading = PLACE_READINGS.get(stem[i : i + size])
            if reading is not None:
                break
        else:
            run += stem[i]
            i += 1
            continue
        if run:
            out += lazy_pinyin(run, style=Style.NORMAL, v_to_u=True)
            run = ""
        out += reading
        i += size
    if run:
        out += lazy_pinyin(run, style=Style.NORMAL, v_to_u=True)
    return out


def romanize(stem: str, place_readings: bool = True) -> str:
    """A proper name in place-name pinyin: one word, capitalised, with an apostrophe where a syllable starting
    with a, o or e follows another (Xi'an, Dong'e)."""
    word = ""
    for syllable in _syllables(stem, place_readings):
        syllable = syllable.lower()
        if word and syllable[:1] in ("a", "o", "e"):
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def split_ethnic(stem: str) -> tuple[str, list[str]]:
    """Split 积石山保安族东乡族撒拉族 into (积石山, [Bonan, Dongxiang, Salar]), reading the groups from the end.

    A one-character group counts only with 族 (回族), a longer one also without (博尔塔拉蒙古)."""
    groups: list[str] = []
    by_length = sorted(ETHNIC_GROUPS, key=len, reverse=True)
    while stem:
        for name in by_length:
            if stem.endswith(name + "族"):
                stem = stem[: -len(name) - 1]
                break
            if len(name) > 1 and stem.endswith(name):
                stem = stem[: -len(name)]
                break
        else:
            break
        groups.insert(0, ETHNIC_GROUPS[name])
    return stem, groups


def _join_english(items: list[str]) -> str:
    """A, B and C."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def split_suffix(name: str, kind: str | None = None) -> tuple[str, str]:
    """(proper name, Chinese administrative suffix); the suffix is "" when the name has none it knows.

    `kind` is the GB/T 2260 division type when known (林区, 特区, 市辖区, 县, ...). 林区 and 特区 are suffixes only
    for those kinds, 新区 and 矿区 only after a name of two characters or more; a name is never left empty (城区 is
    Cheng District)."""
    kind = kind or KINDS_BY_NAME.get(name)
    for suffix, _ in SUFFIXES:
        if not name.endswith(suffix) or len(name) <= len(suffix):
            continue
        if suffix in ("林区", "特区") and kind != suffix:
            continue
        if suffix in ("新区", "矿区") and len(name) - len(suffix) < 2:
            continue
        return name[: -len(suffix)], suffix
    return name, ""


def english_name(name: str, level: Level, kind: str | None = None, place_readings: bool = True) -> str:
    """The generated English name of a division: `level` is "city" for a prefecture-level division or a
    municipality (市 dropped: 山南市 Shannan) and "district" for a county-level one (市 is City); `kind` is its
    GB/T 2260 type when known (see split_suffix)."""
    name = name.strip()
    stem, suffix = split_suffix(name, kind)
    english_suffix = dict(SUFFIXES).get(suffix, "")
    if suffix == "市" and level == "city":
        english_suffix = ""
    parts: list[str] = []
    if suffix.startswith("自治"):
        stem, groups = split_ethnic(stem)
        if groups:
            english_suffix = f"{_join_english(groups)} {english_suffix}"
    elif suffix == "旗":
        for chinese, english in BANNER_PARTS:
            if stem.endswith(chinese) and len(stem) > len(chinese):
                stem = stem[: -len(chinese)]
                english_suffix = f"{english} {english_suffix}"
                break
    if stem:
        parts.append(romanize(stem, place_readings))
    if english_suffix:
        parts.append(english_suffix)
    return " ".join(parts)
