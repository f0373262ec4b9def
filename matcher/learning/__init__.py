"""Learning from data: the text model's check on real public text (:mod:`.text_check`), the scoring model
fitted on staff decisions (:mod:`.estimator`, :mod:`.history`, :mod:`.artifact`) and its evaluation
against the hand weights (:mod:`.compare`)."""
