"""Complaints (投诉) received at the window, by phone or from the authority, on an answer clock."""
