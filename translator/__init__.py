"""The MT library: data, tokenizers, AR and NAR models, decoding, training, evaluation.

Plain Python + torch/transformers. Nothing here may import Django: the web app and the workers
use this package through :mod:`translator.engine` and :mod:`translator.registry`.
"""
