"""Exact decimals from fractions, shared by the full pipeline and the sympy-free fast path.

A rational whose denominator has no prime factor but 2 and 5 has a finite decimal form;
within twelve significant digits it is printed exactly (`20.5078125`), never rounded.

>>> from fractions import Fraction
>>> exact_decimal(Fraction(1313, 64)), exact_decimal(Fraction(1, 3))
('20.515625', None)
"""

from __future__ import annotations

import math
from fractions import Fraction


def exact_decimal(value: Fraction, max_digits: int = 12) -> str | None:
    num, den = value.numerator, value.denominator
    if den.bit_length() > 128 or num.bit_length() > 256:
        return None     # `(31/32)^4096` is exact but no one wants its 6000 digits
    twos = (den & -den).bit_length() - 1        # the factors of 2, at once
    rest = den >> twos
    fives = 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return None
    places = max(twos, fives)
    digits = str(abs(num) * (10 ** places) // den).rjust(places + 1, "0")
    if len(digits.lstrip("0")) > max_digits:
        return None
    whole, frac = (digits[:-places], digits[-places:]) if places else (digits, "")
    sign = "-" if num < 0 else ""
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def format_float(number: float) -> str:
    """A finite float as every value is shown: six significant digits at or past 1e15 and below
    1e-6, whole from 1e6 (six significant digits from 1e9), else about six significant digits
    (at least two decimals) with trailing zeros dropped.

    >>> format_float(989.0), format_float(0.0123456), format_float(2.5e7), format_float(3e-9)
    ('989', '0.0123456', '25000000', '3e-09')
    """
    if number == 0:
        return "0"
    if abs(number) >= 1e15 or abs(number) < 1e-6:
        return f"{number:.6g}"
    magnitude = int(math.floor(math.log10(abs(number))))
    decimals = max(2, 5 - magnitude) if abs(number) < 1e6 else 0
    text = f"{number:.{decimals}f}"
    if abs(number) >= 1e6:
        return f"{number:.6g}" if abs(number) >= 1e9 else f"{round(number):d}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")    # 989.000 reads as 989
    return text
