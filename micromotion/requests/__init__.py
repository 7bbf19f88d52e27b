"""Everything decided before any model runs: the three requests (``request``; their fields are
the table's, ``micromotion.fields``), their checks (``checks``) and the work one may cost
(``budget``)."""
