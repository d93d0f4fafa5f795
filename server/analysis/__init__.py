"""The offline analysis: everything the offline analyzer knows about a transcript, one
concern per module, with no network and no API key.

  embeddings  the sentence-embedding model (MiniLM, shipped in a package); both analyzers use it
  terms       key terms of a passage and topics of a talk (TF-IDF)
  classify    the content type (podcast, lecture, tutorial, news, commentary, other)
  segment     topic segmentation (TextTiling over sentence embeddings), fitted to the clip bounds
  score       the signals that make a passage worth posting, weighted into 0..100
  titles      the title and reason a person reads
  clips       the clip search that ties them together

`server/adapters/analyzer_offline.py` is the thin adapter that implements the Analyzer port.
"""
