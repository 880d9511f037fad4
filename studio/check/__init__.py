"""QC that listens: `studio check` hears every segment of a rendered episode, compares it word by
word with what the script says, flags what is wrong, and writes a proof page.

`words` (normalize, align, score), `phones` (pronunciations), `recognizers` (pocketsphinx,
faster-whisper), `signals` (length, gaps, clipping, level, the episode picture), `calibration`
(each voice's bar), `episode` (the check's edge: files and caches), `page` (the proof page),
`retakes` (`render --check` and `studio retake`).
"""
