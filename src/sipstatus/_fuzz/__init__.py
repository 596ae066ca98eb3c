"""The fuzzing side of sipstatus (private): the message builders and mutations behind the
public hypothesis strategies (``sipstatus.strategies``), grammar-generated text, and the
``sipstatus fuzz`` engine (seeded cases, transport, liveness probes, verdicts, reports).

Everything here except ``model``, ``wire``, ``build``, ``target``, ``transport``, ``probe``
and ``verdict`` imports hypothesis, an optional dependency (``sipstatus[hypothesis]``).
"""
