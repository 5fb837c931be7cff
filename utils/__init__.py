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

Shape legend (used in every docstring): N batch, T time, D input features,
H hidden units, V vocabulary, G gates.
"""

__version__ = "0.1.0"
