"""Exact decimals from fractions, shared by the full pipeline and the sympy-free fast path.

A rational whose denominator has no prime factor but 2 and 5 has a finite decimal form;
within twelve significant digits it is printed exactly (`20.5078125`), never rounded.

>>> from fractions import Fraction
>>> exact_decimal(Fraction(1313, 64)), exact_decimal(Fraction(1, 3))
('20.515625', None)
"""

from __future__ import annotations

from fractions import Fraction


def exact_decimal(value: Fraction, max_digits: int = 12) -> str | None:
    if value.denominator.bit_length() > 128 or value.numerator.bit_length() > 256:
        return None     # `(31/32)^4096` is exact but no one wants its 6000 digits
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    places = max(twos, fives)
    scaled = abs(value.numerator) * (10 ** places) // value.denominator
    digits = str(scaled).rjust(places + 1, "0")
    if len(digits.lstrip("0")) > max_digits:
        return None
    whole, frac = (digits[:-places], digits[-places:]) if places else (digits, "")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
