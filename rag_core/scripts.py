"""The Unicode ranges of the scripts the code tells apart, as bodies of regex character classes."""

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs: Extension A, unified, compatibility
KANA = "\u3040-\u30ff"
HANGUL = "\uac00-\ud7af"
CJK = HAN + KANA  # what jieba and the lexical index read as Chinese/Japanese
CJK_AND_HANGUL = CJK + HANGUL  # text without spaces between words: counted and compared per character
