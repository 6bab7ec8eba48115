"""The loop driver and what it needs: training sets, the run store and the tidy records.

Nothing here knows of images, text or any model: models, metrics and mitigations plug into
:class:`~autophagy.engine.loop.LoopSpec`, and experiments build one.
"""
