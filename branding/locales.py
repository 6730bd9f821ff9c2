"""The locales this server knows by name: ThingsBoard UI's languages (``availableJavaLocales`` answers these,
not every Java locale), and the base translations shipped (``locale/<code>.json``: en_US only, this
server's own strings, not ThingsBoard UI's full key set)."""

import functools
import json
import re
from pathlib import Path

from rest_framework.exceptions import ValidationError

__all__ = ["LOCALES", "DEFAULT_LOCALE", "display_name", "base", "check_code"]

DEFAULT_LOCALE = "en_US"
_DIR = Path(__file__).resolve().parent / "locale"
_CODE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
#: code -> (language, country)
LOCALES = {
    "ar_AE": ("Arabic (العربية)", "United Arab Emirates"), "ca_ES": ("Catalan (català)", "Spain"),
    "cs_CZ": ("Czech (čeština)", "Czechia"), "da_DK": ("Danish (dansk)", "Denmark"),
    "de_DE": ("German (Deutsch)", "Germany"), "el_GR": ("Greek (Ελληνικά)", "Greece"),
    "en_US": ("English", "United States"), "es_ES": ("Spanish (español)", "Spain"),
    "fa_IR": ("Persian (فارسی)", "Iran"), "fr_FR": ("French (français)", "France"),
    "it_IT": ("Italian (italiano)", "Italy"), "ja_JP": ("Japanese (日本語)", "Japan"),
    "ka_GE": ("Georgian (ქართული)", "Georgia"), "ko_KR": ("Korean (한국어)", "South Korea"),
    "lt_LT": ("Lithuanian (lietuvių)", "Lithuania"), "lv_LV": ("Latvian (latviešu)", "Latvia"),
    "nl_BE": ("Dutch (Nederlands)", "Belgium"), "pl_PL": ("Polish (polski)", "Poland"),
    "pt_BR": ("Portuguese (português)", "Brazil"), "ro_RO": ("Romanian (română)", "Romania"),
    "ru_RU": ("Russian (русский)", "Russia"), "sl_SI": ("Slovenian (slovenščina)", "Slovenia"),
    "tr_TR": ("Turkish (Türkçe)", "Türkiye"), "uk_UA": ("Ukrainian (українська)", "Ukraine"),
    "zh_CN": ("Chinese (中文)", "China"), "zh_TW": ("Chinese (中文)", "Taiwan"),
}


def check_code(code: str) -> str:
    if not _CODE.match(code or ""):
        raise ValidationError(f"Invalid locale code '{code:.32}': use language_COUNTRY, e.g. en_US")
    return code


def display_name(code: str) -> str:
    language, country = LOCALES.get(code, (code.split("_")[0], code.split("_")[-1]))
    return f"{language} ({country})" if "(" not in language else f"{language}, {country}"


@functools.cache
def base(code: str) -> dict:
    """The shipped translation of ``code`` ({} where none is shipped)."""
    path = _DIR / f"{code}.json"
    return json.loads(path.read_text(encoding="utf-8")) if _CODE.match(code) and path.is_file() else {}
