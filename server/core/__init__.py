"""The core: the rules every other package agrees on, with no web framework, database
driver or media library in it. Steps and statuses, the failure vocabulary, which URLs
may be fetched, the data that travels between steps, the ports adapters implement, and
the one subtitle writer."""
