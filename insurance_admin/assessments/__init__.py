"""Assessments (考核) as data: templates, daily supervision records, the annual assessment and its outcome."""
