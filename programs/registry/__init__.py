"""The insured registry at scale: reading enrollment lists (`files`), the rules for one row
(`rows`), CSV lists checked a block of columns at a time (`columnar`), what a list does to an
enrollment (`rule`, pure) and the set-based staging and application, step by step (`bulk`)."""
