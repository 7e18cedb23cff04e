"""Common Japanese family and given names (by birth cohort) with kana, and foreign names.

The lists are short, well-known names — enough for realistic-looking synthetic residents, not
a census. Kana are katakana as a registry records them; ``to_halfwidth_kana`` gives the
half-width form older systems still send.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Name:
    """A name and its reading (フリガナ)."""

    text: str
    kana: str


def _names(spec: str) -> tuple[Name, ...]:
    return tuple(Name(*pair.split(":")) for pair in spec.split())


FAMILY_NAMES = _names(
    "佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト "
    "中村:ナカムラ 小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ "
    "松本:マツモト 井上:イノウエ 木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ "
    "森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ 石川:イシカワ 山下:ヤマシタ 中島:ナカジマ "
    "石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ 藤田:フジタ 後藤:ゴトウ "
    "近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 斉藤:サイトウ 福田:フクダ "
    "太田:オオタ 西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ "
    "三浦:ミウラ 原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ "
    "中山:ナカヤマ 和田:ワダ 石田:イシダ 森田:モリタ 上田:ウエダ 原:ハラ 柴田:シバタ 酒井:サカイ "
    "工藤:クドウ 横山:ヨコヤマ 宮崎:ミヤザキ 宮本:ミヤモト 内田:ウチダ 高木:タカギ 安藤:アンドウ "
    "谷口:タニグチ 大野:オオノ 丸山:マルヤマ 今井:イマイ 高田:タカダ 藤本:フジモト 武田:タケダ "
    "村田:ムラタ 上野:ウエノ 杉山:スギヤマ 増田:マスダ 平野:ヒラノ 大塚:オオツカ 千葉:チバ "
    "久保:クボ "
    "松井:マツイ 小島:コジマ 岩崎:イワサキ 桜井:サクライ 野口:ノグチ 松尾:マツオ 野村:ノムラ "
    "木下:キノシタ 菊地:キクチ 佐野:サノ 大西:オオニシ 杉本:スギモト 新井:アライ"
)
# Frequency falls with rank, roughly as in surname statistics.
_FAMILY_CUMULATIVE = tuple(accumulate(1.0 / (rank + 8) for rank in range(len(FAMILY_NAMES))))

# (first birth year of the cohort, male names, female names)
_GIVEN_BY_COHORT: tuple[tuple[int, tuple[Name, ...], tuple[Name, ...]], ...] = (
    (
        0,
        _names(
            "清:キヨシ 茂:シゲル 博:ヒロシ 実:ミノル 勇:イサム 進:ススム 正:タダシ 武:タケシ "
            "勝:マサル 明:アキラ 三郎:サブロウ 正雄:マサオ 和夫:カズオ 敏夫:トシオ 幸雄:ユキオ"
        ),
        _names(
            "和子:カズコ 幸子:サチコ 節子:セツコ 洋子:ヨウコ 美代子:ミヨコ 恵美子:エミコ "
            "久子:ヒサコ 京子:キョウコ 文子:フミコ 千代子:チヨコ 静子:シズコ ハナ:ハナ "
            "信子:ノブコ 昭子:アキコ トシ子:トシコ"
        ),
    ),
    (
        1950,
        _names(
            "誠:マコト 浩:ヒロシ 隆:タカシ 修:オサム 哲也:テツヤ 健一:ケンイチ 秀樹:ヒデキ "
            "和彦:カズヒコ 浩二:コウジ 聡:サトシ 学:マナブ 剛:ツヨシ 達也:タツヤ 直樹:ナオキ "
            "洋一:ヨウイチ"
        ),
        _names(
            "恵子:ケイコ 裕子:ユウコ 由美子:ユミコ 直美:ナオミ 真由美:マユミ 久美子:クミコ "
            "明美:アケミ 智子:トモコ 陽子:ヨウコ 順子:ジュンコ 浩美:ヒロミ 典子:ノリコ "
            "美香:ミカ 小百合:サユリ"
        ),
    ),
    (
        1975,
        _names(
            "大輔:ダイスケ 健太:ケンタ 拓也:タクヤ 翔太:ショウタ 直人:ナオト 和也:カズヤ "
            "大樹:ダイキ 亮:リョウ 翔:ショウ 健太郎:ケンタロウ 雄太:ユウタ 拓海:タクミ "
            "達也:タツヤ 誠:マコト"
        ),
        _names(
            "愛:アイ 彩:アヤ 美穂:ミホ 麻衣:マイ 舞:マイ 沙織:サオリ 恵:メグミ 由佳:ユカ "
            "明日香:アスカ 萌:モエ 美咲:ミサキ 優子:ユウコ 香織:カオリ 千尋:チヒロ"
        ),
    ),
    (
        2000,
        _names(
            "蓮:レン 大翔:ヒロト 陽翔:ハルト 湊:ミナト 悠真:ユウマ 樹:イツキ 蒼:アオイ "
            "颯太:ソウタ 陽太:ヨウタ 悠人:ユウト 律:リツ 朝陽:アサヒ 結翔:ユイト 大和:ヤマト"
        ),
        _names(
            "陽葵:ヒマリ 凛:リン 結菜:ユイナ 芽依:メイ 葵:アオイ 紬:ツムギ 結衣:ユイ "
            "さくら:サクラ 美桜:ミオ 莉子:リコ 心春:コハル 杏:アン 陽菜:ヒナ 澪:ミオ"
        ),
    ),
)


def family_name(rng: random.Random) -> Name:
    """A common Japanese family name, frequent names more often."""
    return rng.choices(FAMILY_NAMES, cum_weights=_FAMILY_CUMULATIVE)[0]


def given_name(rng: random.Random, sex: str, birth_year: int) -> Name:
    """A given name typical of people of ``sex`` ("1"/"2") born in ``birth_year``."""
    cohort = next(c for c in reversed(_GIVEN_BY_COHORT) if birth_year >= c[0])
    return rng.choice(cohort[1] if sex == "1" else cohort[2])


@dataclass(frozen=True, slots=True)
class Nationality:
    """Names of one nationality as a Japanese registry records them (ローマ字 or 漢字 + kana)."""

    name: str
    weight: float
    family: tuple[Name, ...]
    male: tuple[Name, ...]
    female: tuple[Name, ...]


NATIONALITIES = (
    Nationality(
        "中国",
        26,
        _names("王:ワン 李:リー 張:チャン 劉:リュウ 陳:チェン 楊:ヤン"),
        _names("偉:ウェイ 強:チャン 磊:レイ 浩:ハオ 軍:ジュン"),
        _names("芳:ファン 娜:ナー 静:ジン 麗:リー 敏:ミン"),
    ),
    Nationality(
        "ベトナム",
        17,
        _names("NGUYEN:グエン TRAN:チャン LE:レ PHAM:ファム HOANG:ホアン"),
        _names("VAN_NAM:ヴァン_ナム DUC_ANH:ドゥック_アイン MINH_TUAN:ミン_トゥアン"),
        _names("THI_LAN:ティ_ラン THI_HOA:ティ_ホア NGOC_ANH:ゴック_アイン"),
    ),
    Nationality(
        "韓国",
        12,
        _names("金:キム 李:イ 朴:パク 崔:チェ 鄭:チョン"),
        _names("民俊:ミンジュン 成浩:ソンホ 英哲:ヨンチョル"),
        _names("美英:ミヨン 秀珍:スジン 恩恵:ウネ"),
    ),
    Nationality(
        "フィリピン",
        10,
        _names("SANTOS:サントス REYES:レイエス CRUZ:クルス GARCIA:ガルシア"),
        _names("JOSE:ホセ MARK:マーク JOHN_PAUL:ジョン_ポール"),
        _names("MARIA:マリア JOY:ジョイ ANGELICA:アンジェリカ"),
    ),
    Nationality(
        "ブラジル",
        7,
        _names("SILVA:シルバ OLIVEIRA:オリベイラ SOUZA:ソウザ COSTA:コスタ"),
        _names("LUCAS:ルーカス GABRIEL:ガブリエル RAFAEL:ハファエル"),
        _names("ANA:アナ JULIANA:ジュリアナ BEATRIZ:ベアトリス"),
    ),
    Nationality(
        "ネパール",
        6,
        _names("GURUNG:グルン SHRESTHA:シュレスタ TAMANG:タマン RAI:ライ"),
        _names("RAM:ラム BIKASH:ビカシュ SURAJ:スラジ"),
        _names("SITA:シタ ANJALI:アンジャリ PRIYA:プリヤ"),
    ),
    Nationality(
        "インドネシア",
        5,
        _names("SAPUTRA:サプトラ WIJAYA:ウィジャヤ PRATAMA:プラタマ"),
        _names("AGUS:アグス BUDI:ブディ RIZKI:リズキ"),
        _names("SITI:シティ DEWI:デウィ PUTRI:プトリ"),
    ),
    Nationality(
        "米国",
        2,
        _names("SMITH:スミス JOHNSON:ジョンソン BROWN:ブラウン"),
        _names("JOHN:ジョン MICHAEL:マイケル DAVID:デイビッド"),
        _names("EMILY:エミリー SARAH:サラ JESSICA:ジェシカ"),
    ),
)
_NATIONALITY_WEIGHTS = tuple(n.weight for n in NATIONALITIES)
KOREA = NATIONALITIES[2]


def nationality(rng: random.Random) -> Nationality:
    """A nationality, in roughly the proportions of Japan's foreign residents."""
    return rng.choices(NATIONALITIES, weights=_NATIONALITY_WEIGHTS)[0]


def foreign_given_name(rng: random.Random, country: Nationality, sex: str) -> Name:
    """A given name of ``country``; "_" in the lists stands for a space."""
    name = rng.choice(country.male if sex == "1" else country.female)
    return Name(name.text.replace("_", " "), name.kana.replace("_", " "))


_FULL = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
)
_HALF = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝ"
_SMALL_FULL = "ァィゥェォッャュョー・ "
_SMALL_HALF = "ｧｨｩｪｫｯｬｭｮｰ･ "
_TO_HALF = {
    **dict(zip(_FULL, _HALF, strict=True)),
    **dict(zip(_SMALL_FULL, _SMALL_HALF, strict=True)),
    "\u3099": "ﾞ",
    "\u309a": "ﾟ",
}


def to_halfwidth_kana(kana: str) -> str:
    """Half-width katakana as legacy systems store readings (ガ → ｶﾞ)."""
    decomposed = unicodedata.normalize("NFD", kana)  # ガ → カ + combining voiced mark
    return "".join(_TO_HALF.get(ch, ch) for ch in decomposed)
