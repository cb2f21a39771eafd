"""Model families, one readable file each: ar_transformer, cmlm, ctc_glat, diffusion, diffusion_lm.

Every family subclasses :class:`translator.models.base.TranslationModel`; the training loop, the
checkpoint format and the engine wrapper are shared and know nothing family-specific.
"""
