"""Fashion-MNIST's class names in English (Zalando's) and in Korean (as the seeds list them)."""

from __future__ import annotations

from tinyann.datasets.fashion_mnist import CLASS_NAMES

#: Label i -> English name, in Zalando's order (the dataset module's list).
CLASS_NAMES_EN = CLASS_NAMES

#: Label i -> Korean name, the table of the seeds' textbook (혼자 공부하는 머신러닝+딥러닝).
CLASS_NAMES_KO = (
    "티셔츠",
    "바지",
    "스웨터",
    "드레스",
    "코트",
    "샌달",
    "셔츠",
    "스니커즈",
    "가방",
    "앵클 부츠",
)

LANGUAGES = {"en": CLASS_NAMES_EN, "ko": CLASS_NAMES_KO}


def class_names(lang: str = "en") -> tuple[str, ...]:
    """The ten class names in ``lang`` ('en' or 'ko')."""
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise ValueError(f"Unknown language {lang!r}; expected one of "
                         f"{sorted(LANGUAGES)}") from None


def class_name(label: int, lang: str = "en") -> str:
    """The name of class ``label`` (0-9) in ``lang``."""
    names = class_names(lang)
    if not 0 <= int(label) < len(names):
        raise ValueError(f"Labels of Fashion-MNIST are integers in [0, {len(names)}). "
                         f"Received: label={label}")
    return names[int(label)]
