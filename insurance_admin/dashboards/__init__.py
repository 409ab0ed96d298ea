"""The supervisor's dashboard per contract and area, its PDF and XLSX."""
