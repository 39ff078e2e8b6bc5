"""School-to-school support (seed 001): schools' offers of expertise, checked by the council;
schools' private requests for support; the broker's shortlist and the comparison the school
reads; the engagement agreed between two schools and its days, delivered and confirmed; and the
demand the council sees. The council's own traded service is one provider among many.
"""
