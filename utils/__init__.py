"""Recurrent: the shared package every course notebook imports.

Importing ``utils`` does no work: no seeding, no plotting set-up, no data loading.
Import the module you need by concept::

    from utils.device import get_device, describe_device
    from utils.seed import seed_everything
    from utils.gradcheck import numerical_gradient, rel_error, check_gradients
    from utils.shapes import check_shape
    from utils.data import load_corpus, Vocab, stream_batches
    from utils.train import train
    from utils import plot

Modules by concept:

==============  ==============================================================
``device``      CUDA when present, else CPU; ``RECURRENT_DEVICE`` overrides
``seed``        ``seed_everything``: Python, numpy, torch, deterministic flags
``shapes``      ``check_shape``: raises with expected vs got
``gradcheck``   central differences on a copy, relative error, loud checks
``data``        offline corpora, ``Vocab``, splits, contiguous TBPTT batches
``train``       training loop: progress bar, clipping, live loss plot
``plot``        loss curves, gradient norms, heat maps
``widgets``     small ipywidgets wrappers that also work headless
``selfcheck``   check-your-understanding helpers that name the wrong term
``rnn``         the vanilla RNN in numpy: forward/backward pairs (lectures 01, 03)
``graphs``      drawings: unrolled graphs, the five shapes, gradient flow
``ngram``       counting n-gram language models (lecture 02)
``charlm``      torch character language models, sampling, perplexity (lecture 02)
``clip``        gradient clipping by norm and by value (lecture 04)
``gradients``   Jacobian products and gradient norms through time (lecture 04)
``tasks``       synthetic long-memory tasks: delayed recall, the adding problem (04-06)
``lstm``        the LSTM cell: numpy forward/backward pairs, torch, gate orders (05)
``gru``         the GRU (torch's and the paper's form), MUT1-3 (06)
``fused``       the fast from-scratch LSTM: hoisted projection, hand-written backward (06)
``layers``      stacked, residual, bidirectional, packed layers from the cells (07)
``classify``    surnames and BasicMotions, padding and packing, confusion matrices (07)
``interpret``   what single units track in code; text coloured by activation (05)
``cellcheck``   self-checks for LSTM and GRU steps that name the faulty gate (05, 06)
``seqdata``     seq2seq data from a seed: dates (Babel) and numbers (num2words), split by key (08-10)
``bleu``        BLEU from scratch: clipped n-gram precisions, brevity penalty, smoothing (08)
``decoding``    greedy, beam and exhaustive search over any ``step_fn`` (08)
``attention``   dot/general/additive scores, masking, local and hard, multi-head (09)
``seq2seq``     encoder-decoder with or without attention, training, translation, evaluation (08-09)
``captions``    digit strips (scikit-learn digits) captioned in words; CNN + attention decoder (10)
``stories``     bAbI-style generated stories and questions; an attention reader over sentences (10)
==============  ==============================================================

Shape legend (used in every docstring): N batch, T time, D input features,
H hidden units, V vocabulary, G gates.
"""

__version__ = "0.1.0"
