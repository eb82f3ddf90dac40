"""The holder's identity on certificates: an English (romanised) name, and an ID number that
is kept only as a salted hash and a masked form, so that no page can leak it."""

import unicodedata
from datetime import datetime

from pypinyin import lazy_pinyin
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from examsys.core import audit
from examsys.core.errors import Invalid
from examsys.core.i18n import _

ID_NUMBER_MAX = 32


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def romanise(name: str) -> str:
    """A Chinese name in pinyin as on a passport (张伟 → ZHANG Wei); other names unchanged.

    The first character is taken as the surname; compound surnames are rare enough that
    holders with one set their English name themselves.
    """
    name = unicodedata.normalize("NFKC", name).strip()
    han = [ch for ch in name if not ch.isspace()]
    if not han or not all(_is_han(ch) for ch in han):
        return name
    syllables = lazy_pinyin("".join(han))
    surname, given = syllables[0].upper(), "".join(syllables[1:]).capitalize()
    return f"{surname} {given}".strip()


def normalise_id_number(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).upper().split())


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 4 characters of an ID (110***********123X)."""
    if len(number) <= 8:
        return "*" * (len(number) - 2) + number[-2:]
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def hash_id_number(number: str) -> str:
    return generate_password_hash(number, method="scrypt:16384:8:1")


def id_number_matches(stored_hash: str | None, typed: str) -> bool:
    return bool(stored_hash) and check_password_hash(stored_hash, normalise_id_number(typed))


def validate_id_number(text: str) -> str:
    number = normalise_id_number(text)
    if not number.isascii() or not number.isalnum() or not 6 <= len(number) <= ID_NUMBER_MAX:
        raise Invalid(_("An ID number has 6 to 32 letters or digits."), code="invalid_id_number")
    return number


def save_details(session, now: datetime, user, *, name_en: str | None,
                 id_number: str | None, actor_id: int | None):
    """Set what future certificates print beside the account's name (issued ones keep theirs).

    An empty ``id_number`` keeps the stored one; ``name_en`` empty means "romanise the name".
    """
    from examsys.certs.models import HolderDetails

    details = session.get(HolderDetails, user.id) or HolderDetails(user_id=user.id)
    name_en = (name_en or "").strip() or None
    if name_en is not None and len(name_en) > 200:
        raise Invalid(_("The English name is too long."), code="invalid_name")
    details.name_en = name_en
    if id_number:
        number = validate_id_number(id_number)
        details.id_number_hash, details.id_number_masked = (hash_id_number(number),
                                                            mask_id_number(number))
    details.updated_at = now
    session.add(details)
    audit.record(session, now, actor_id, "certificate.holder_details", user,
                 {"name_en": name_en, "id_number": details.id_number_masked})
    return details


def details_for(session, user_id: int):
    from examsys.certs.models import HolderDetails

    return session.scalar(select(HolderDetails).where(HolderDetails.user_id == user_id))
