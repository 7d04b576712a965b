"""Machinery of the validation dossier (:func:`custval.report.dossier`): the measurement plan
and the HTML page."""
