"""Digit strips: captions say what is drawn, the handwriting split holds, the captioner's maps are distributions."""

import numpy as np
import pytest
import torch

from utils.captions import (DIGIT_WORDS, Captioner, ConvEncoder, attended_digits, caption_batch, caption_vocab,
                            digit_images, make_strips, train_captioner)
from utils.seqdata import END_ID, START_ID


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train on one thread: on a busy 2-core machine two torch threads slow each other down several-fold."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pool_of(image, images):
    return {i for i in range(len(images)) if np.array_equal(images[i], image)}


@pytest.mark.slow
def test_strips_show_the_digits_their_captions_name():
    images, labels = digit_images()
    strips = make_strips(40, pool="train", seed=0)
    assert strips.images.shape == (40, 1, 8, 48) and strips.images.dtype == np.float32
    for i in range(40):
        assert strips.captions[i] == " ".join(DIGIT_WORDS[d] for d in strips.digits[i])
        assert 3 <= len(strips.digits[i]) <= 5
        for d, (lo, hi) in zip(strips.digits[i], strips.boxes[i]):
            match = pool_of(strips.images[i, 0, :, lo:hi], images)
            assert match and all(labels[j] == d for j in match)
        assert not strips.images[i, 0, :, strips.boxes[i][-1][1]:].any()      # blank to the right


@pytest.mark.slow
def test_train_and_test_strips_use_different_handwriting():
    images, _ = digit_images()
    train, test = make_strips(60, pool="train", seed=1), make_strips(60, pool="test", seed=2)

    def used(strips):
        return {j for i in range(len(strips)) for lo, hi in strips.boxes[i]
                for j in pool_of(strips.images[i, 0, :, lo:hi], images)}

    assert not used(train) & used(test)


def test_strips_are_reproducible_and_bad_requests_explained():
    assert np.array_equal(make_strips(5, seed=3).images, make_strips(5, seed=3).images)
    with pytest.raises(ValueError, match="need 56 columns"):
        make_strips(2, lengths=(7,))
    with pytest.raises(ValueError, match="pool must be"):
        make_strips(2, pool="validation")


def test_batches_and_encoder_shapes():
    vocab = caption_vocab()
    strips = make_strips(4, seed=0)
    images, tgt_in, tgt_out = caption_batch(strips, [0, 1, 2, 3], vocab)
    assert torch.all(tgt_in[:, 0] == START_ID)
    assert [int((row == END_ID).nonzero()) for row in tgt_out] == [len(d) for d in strips.digits]
    states, summary = ConvEncoder()(images)
    assert states.shape == (4, 21, 64) and summary.shape == (4, 64)
    with pytest.raises(ValueError, match="built for"):
        ConvEncoder()(torch.zeros(1, 1, 8, 40))


@pytest.mark.slow
def test_a_short_training_run_lowers_the_loss_and_maps_are_distributions():
    torch.manual_seed(0)
    vocab = caption_vocab()
    strips = make_strips(500, seed=0)
    model = Captioner(len(vocab))
    history = train_captioner(model, strips, vocab, steps=120, live_plot=False)
    assert np.mean(history.loss[-10:]) < 0.85 * np.mean(history.loss[:10])
    captions, maps = model.caption(strips.images[:5], vocab)
    for c, m in zip(captions, maps):
        assert m.shape == (len(c.split()) + 1, 21)                            # every word and </s>
        assert np.allclose(m.sum(1), 1, atol=1e-5)


def test_attended_digits_reads_the_window_under_the_peak():
    strips = make_strips(1, lengths=(3,), seed=0, max_gap=0, max_margin=0)    # digits at columns 0-7, 8-15, 16-23
    maps = np.zeros((4, 21))
    maps[0, 0] = maps[1, 4] = maps[2, 7] = maps[3, 12] = 1.0                  # window centres 4, 12, 18, 28
    assert attended_digits(strips, 0, maps) == [0, 1, 2, None]
