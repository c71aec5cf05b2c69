"""Homework tools: the calculator that shows its working, convolution and pooling by hand,
every number of an analysis explained, and answer checking.

Room: consumers. Reads ``cnnspec.spec`` and ``cnnspec.analysis`` records (and the
engine's functional ops for the by-hand results); never imports click.

* :mod:`.calc` -- output size, parameters, connections, receptive field, memory.
* :mod:`.matrices`, :mod:`.by_hand` -- small matrices, every window written out.
* :mod:`.explain` -- a report as markdown derivations.
* :mod:`.values`, :mod:`.answers` -- what a student wrote, from YAML or CSV.
* :mod:`.grading`, :mod:`.diagnose`, :mod:`.diagnose_totals`, :mod:`.verdicts` -- verdicts
  and the usual mistakes behind wrong values.
* :mod:`.batch`, :mod:`.report` -- a folder of submissions; output formats.
"""
