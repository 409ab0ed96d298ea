"""The insured registry at scale: reading enrollment lists (`files`), checking rows
(`rows`), the set-based staging and application engine (`engine`) and the SQL checks of the
PostgreSQL fast path (`pg`)."""
