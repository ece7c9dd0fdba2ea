"""Real networks run with fastattn's kernels (optional extra: ``pip install "fastattn[models]"``).

The extra brings ``safetensors`` and ``tokenizers``; the core package never imports them.
"""

from fastattn.models.minilm import MiniLM

__all__ = ["MiniLM"]
