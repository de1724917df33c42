"""Typed phone numbers, checked by libphonenumber's rules (the phonenumbers package). A national
number (07700 900123) is read as the UK's, as the working days' bank holidays are England's; an
international one (+33 6 12 34 56 78) as its own country's. Numbers are kept as typed: the check
only refuses what could never be dialled or texted."""
import phonenumbers
from phonenumbers import PhoneNumberType

REGION = "GB"
EXAMPLE = "like 07700 900123 or +44 7700 900123"


def phone_problem(text: str | None, *, texted: bool, kept: str | None = None) -> str | None:
    """What is wrong with a typed number, or None (nothing wrong, or nothing typed). `texted`: the
    number will be sent texts (a staff mobile, the duty phone, reminders), so it needs a mobile's
    length, not just any number's. `kept`: the number stored before: sent back unchanged, it is not
    checked again (numbers were once stored unchecked, and an old odd one must never stop the rest
    of a form, such as deactivating an account or a team's safety settings)."""
    text = (text or "").strip()
    if not text or (kept is not None and text == kept):
        return None
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return f"Enter a phone number, {EXAMPLE}."
    if number.extension and texted:
        return "A number that gets texts can't have an extension."
    possible = (phonenumbers.is_possible_number_for_type(number, PhoneNumberType.MOBILE) if texted
                else phonenumbers.is_possible_number(number))
    kind = "a mobile" if texted else "a phone"
    return None if possible else f"This number has too few or too many digits for {kind} number, {EXAMPLE}."
