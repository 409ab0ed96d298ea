"""The insured registry at scale: reading enrollment lists (`files`), the rules for one row
(`rows`), CSV lists checked a block of columns at a time (`columnar`) and the set-based staging
and application engine (`engine`)."""
