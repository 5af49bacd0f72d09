"""GPU upscaler (Real-ESRGAN networks in plain torch, chunked and checkpointed video upscaling, the GPU
worker client and the notebook). Not built yet: it is its own piece of work (see ARCHITECTURE.md,
"Colab as one GPU worker among others"). Until it lands, ``startRender`` refuses ``upscale: true``
unless ``RECAP_WORKER__GPU_ENABLED`` is set, and the ``upscale`` stage fails with UPSCALE_UNAVAILABLE.

This package may import only torch, numpy, av and the standard library (an import test enforces it).
"""
