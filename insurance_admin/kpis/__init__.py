"""Performance indicators (KPIs) of the supervision layer: pure selectors over
programs, claims and finance that the dashboards, the assessments and the reports read.
A KPI is registered by key in `registry.py`, so an assessment item names it as data."""
