"""The offline English place-name generator: place-name readings, apostrophes, suffixes and ethnic groups."""

from __future__ import annotations

import pytest

from elt.places.names import english_name, romanize, split_suffix


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # polyphones in their place-name readings
        ("长治市", "Changzhi"),
        ("长春市", "Changchun"),
        ("漯河市", "Luohe"),
        ("六安市", "Lu'an"),
        ("蚌埠市", "Bengbu"),
        ("丽水市", "Lishui"),
        ("亳州市", "Bozhou"),
        ("泸州市", "Luzhou"),
        ("重庆市", "Chongqing"),
        ("成都市", "Chengdu"),
        ("厦门市", "Xiamen"),
        ("朝阳市", "Chaoyang"),
        ("乐山市", "Leshan"),
        # apostrophe before a syllable starting with a, o or e; ü kept after l
        ("西安市", "Xi'an"),
        ("马鞍山市", "Ma'anshan"),
        ("普洱市", "Pu'er"),
        ("吕梁市", "Lüliang"),
        # never a literal translation
        ("黑河市", "Heihe"),
        ("山南市", "Shannan"),
        # prefecture-level suffixes
        ("阿里地区", "Ali Prefecture"),
        ("兴安盟", "Xing'an League"),
        ("大兴安岭地区", "Daxing'anling Prefecture"),
        ("延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture"),
        ("海西蒙古族藏族自治州", "Haixi Mongol and Tibetan Autonomous Prefecture"),
        ("伊犁哈萨克自治州", "Yili Kazakh Autonomous Prefecture"),
        ("黔西南布依族苗族自治州", "Qianxinan Buyei and Miao Autonomous Prefecture"),
        ("克孜勒苏柯尔克孜自治州", "Kezilesu Kyrgyz Autonomous Prefecture"),
    ],
)
def test_city_names(name: str, expected: str) -> None:
    assert english_name(name, "city") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("朝阳区", "Chaoyang District"),
        ("浦东新区", "Pudong New Area"),
        ("清新区", "Qingxin District"),  # 新 belongs to the name
        ("碑林区", "Beilin District"),  # 林区 is a suffix only for 神农架林区
        ("万柏林区", "Wanbailin District"),  # not 柏林 Berlin
        ("神农架林区", "Shennongjia Forestry District"),
        ("六枝特区", "Liuzhi Special District"),
        ("城区", "Cheng District"),
        ("矿区", "Kuang District"),
        ("鹰手营子矿区", "Yingshouyingzi Mining District"),
        ("沙县区", "Shaxian District"),
        ("闵行区", "Minhang District"),
        ("番禺区", "Panyu District"),
        ("马尾区", "Mawei District"),
        ("莘县", "Shen County"),
        ("单县", "Shan County"),
        ("蔚县", "Yu County"),
        ("浚县", "Xun County"),
        ("涡阳县", "Guoyang County"),
        ("洪洞县", "Hongtong County"),
        ("长子县", "Zhangzi County"),
        ("乐亭县", "Laoting County"),
        ("东阿县", "Dong'e County"),
        ("宕昌县", "Tanchang County"),
        ("繁峙县", "Fanshi County"),
        ("荥阳市", "Xingyang City"),
        ("荥经县", "Yingjing County"),
        ("乐清市", "Yueqing City"),
        ("泊头市", "Botou City"),
        ("什邡市", "Shifang City"),
        ("珲春市", "Hunchun City"),
        ("仙桃市", "Xiantao City"),
        ("丰宁满族自治县", "Fengning Manchu Autonomous County"),
        ("互助土族自治县", "Huzhu Tu Autonomous County"),
        ("白沙黎族自治县", "Baisha Li Autonomous County"),
        ("三都水族自治县", "Sandu Sui Autonomous County"),
        ("沧源佤族自治县", "Cangyuan Va Autonomous County"),
        ("景宁畲族自治县", "Jingning She Autonomous County"),
        ("东乡族自治县", "Dongxiang Autonomous County"),
        ("积石山保安族东乡族撒拉族自治县", "Jishishan Bonan, Dongxiang and Salar Autonomous County"),
        ("贡山独龙族怒族自治县", "Gongshan Derung and Nu Autonomous County"),
        ("察布查尔锡伯自治县", "Chabucha'er Xibe Autonomous County"),
        ("塔什库尔干塔吉克自治县", "Tashiku'ergan Tajik Autonomous County"),
        ("龙胜各族自治县", "Longsheng Multi-ethnic Autonomous County"),
        ("鄂伦春自治旗", "Oroqen Autonomous Banner"),
        ("鄂温克族自治旗", "Evenk Autonomous Banner"),
        ("莫力达瓦达斡尔族自治旗", "Molidawa Daur Autonomous Banner"),
        ("科尔沁左翼中旗", "Ke'erqin Left Middle Banner"),
        ("达尔罕茂明安联合旗", "Da'erhanmaoming'an United Banner"),
        ("阿拉善左旗", "Alashan Left Banner"),
        ("准格尔旗", "Zhunge'er Banner"),
    ],
)
def test_district_names(name: str, expected: str) -> None:
    assert english_name(name, "district") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("蒙古族", "Mongol"), ("藏族", "Tibetan"), ("回族", "Hui"), ("维吾尔", "Uyghur"), ("哈萨克", "Kazakh"),
        ("朝鲜族", "Korean"), ("苗族", "Miao"), ("土家族", "Tujia"), ("彝族", "Yi"), ("壮族", "Zhuang"),
        ("布依族", "Buyei"), ("侗族", "Dong"), ("瑶族", "Yao"), ("白族", "Bai"), ("傣族", "Dai"), ("哈尼族", "Hani"),
        ("黎族", "Li"), ("傈僳族", "Lisu"), ("佤族", "Va"), ("畲族", "She"), ("拉祜族", "Lahu"), ("水族", "Sui"),
        ("纳西族", "Naxi"), ("景颇族", "Jingpo"), ("柯尔克孜", "Kyrgyz"), ("土族", "Tu"), ("达斡尔族", "Daur"),
        ("仫佬族", "Mulao"), ("羌族", "Qiang"), ("布朗族", "Blang"), ("撒拉族", "Salar"), ("毛南族", "Maonan"),
        ("仡佬族", "Gelao"), ("锡伯族", "Xibe"), ("普米族", "Pumi"), ("塔吉克", "Tajik"), ("怒族", "Nu"),
        ("鄂温克族", "Evenk"), ("保安族", "Bonan"), ("裕固族", "Yugur"), ("独龙族", "Derung"), ("鄂伦春", "Oroqen"),
    ],
)  # fmt: skip
def test_ethnic_groups_in_english(name: str, expected: str) -> None:
    assert english_name(f"某地{name}自治县", "district") == f"Moudi {expected} Autonomous County"


def test_city_suffix_depends_on_level() -> None:
    """市 is dropped for a prefecture-level city and is City for a county-level one."""
    assert english_name("山南市", "city") == "Shannan"
    assert english_name("义乌市", "district") == "Yiwu City"
    assert english_name("北京市", "city") == "Beijing"


def test_kind_decides_the_one_member_types() -> None:
    assert english_name("神农架林区", "district", "林区") == "Shennongjia Forestry District"
    assert english_name("金林区", "district", "市辖区") == "Jinlin District"
    assert split_suffix("六枝特区") == ("六枝", "特区")
    assert split_suffix("碑林区") == ("碑林", "区")


def test_romanize() -> None:
    assert romanize("延安") == "Yan'an"
    assert romanize("新干") == "Xingan"  # g starts the second syllable: no apostrophe
    assert romanize("兴安") == "Xing'an"


# The reviewed names that are exonyms or established English spellings: the generator gives pinyin for the
# Chinese characters, never a literal translation and never the exonym (which only review supplies).
EXONYMS = {
    "乌鲁木齐市": ("Urumqi", "Wulumuqi"),
    "呼和浩特市": ("Hohhot", "Huhehaote"),
    "拉萨市": ("Lhasa", "Lasa"),
    "喀什地区": ("Kashgar Prefecture", "Kashi Prefecture"),
    "日喀则市": ("Shigatse", "Rikaze"),
    "和田地区": ("Hotan Prefecture", "Hetian Prefecture"),
    "阿克苏地区": ("Aksu Prefecture", "Akesu Prefecture"),
    "伊犁哈萨克自治州": ("Ili Kazakh Autonomous Prefecture", "Yili Kazakh Autonomous Prefecture"),
    "哈尔滨市": ("Harbin", "Ha'erbin"),
}


@pytest.mark.parametrize("name", sorted(EXONYMS))
def test_exonyms_are_not_generated(name: str) -> None:
    exonym, pinyin = EXONYMS[name]
    generated = english_name(name, "city")
    assert generated == pinyin
    assert generated != exonym
    literal = {"Black", "River", "Mountain", "South", "North", "East", "West", "Lake", "Sea", "City"}
    assert not literal & set(generated.split())


def test_literal_translations_never_appear() -> None:
    for name in ("黑河市", "白山市", "黄山市", "海南藏族自治州", "西宁市", "东营市", "南京市", "北海市", "石家庄市"):
        words = set(english_name(name, "city").split())
        assert not words & {"Black", "White", "Yellow", "Mountain", "South", "North", "East", "West", "Sea", "River"}
