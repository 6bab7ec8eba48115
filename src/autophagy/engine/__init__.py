"""The loop driver and what it needs: its modes, steps and training sets (the pure loop).

Nothing here knows of images, text or any model: models, metrics and mitigations plug into
:class:`~autophagy.engine.loop.LoopSpec`, and experiments build one.
"""
