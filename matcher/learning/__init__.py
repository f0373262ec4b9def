"""Learning from data: the text model's check on real public text (:mod:`.text_check`), the scoring model
fitted on staff decisions (:mod:`.estimator`, :mod:`.history`, :mod:`.artifact`) and its evaluation
against the hand weights (:mod:`.compare`)."""

from __future__ import annotations

from dataclasses import replace

from ..scoring import COMPONENTS


def apply_model(session, inp):
    """``inp`` (a :class:`~matcher.matching.RoundInput`) scored by the model staff chose: each track's rule
    carries the model's weights (:attr:`~matcher.tracks.TrackRule.weights`) and ``inp.model`` its version.
    With the hand weights chosen (the default) ``inp`` is returned as it is.

    Raises
    ------
    NotFoundError, RefusedError
        The chosen model's file is gone or fails its signature (:func:`.artifact.load`): a run is never
        scored silently by other weights than the ones chosen.
    """
    from .artifact import HAND, weights_in_use
    version, by_track = weights_in_use(session, list(inp.rules))
    if version == HAND:
        return inp
    rules = {key: replace(rule, weights=tuple((c, float(by_track[key][c])) for c in COMPONENTS))
             if by_track.get(key) else rule for key, rule in inp.rules.items()}
    return replace(inp, rules=rules, model=version)
