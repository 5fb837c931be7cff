"""Example submissions for assignment 1: each one realistic mistake, applied to the reference solution.

``MISTAKES[name] = (question, old, new, what)``: the submission is the reference with ``old``
replaced by ``new`` (exactly once, inside a solution region). The specification the tests check:
the reference scores full marks, the blank release scores 0, and each mistake scores below the
maximum in ``question`` and full marks in every other question, under every backend.
"""

MISTAKES = {
    "q1_missing_tanh_derivative": (
        "q1", "da = dnext_h * (1.0 - next_h**2)", "da = dnext_h",
        "rnn_step_backward forgets the derivative of tanh"),
    "q2_dW_not_summed_over_time": (
        "q2", "dWx += dWx_t", "dWx = dWx_t",
        "rnn_backward keeps only the last step's contribution to dWx"),
    "q2_dprev_h_not_propagated": (
        "q2", "rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])", "rnn_step_backward(dh[:, t, :], cache[t])",
        "rnn_backward drops the gradient flowing back from step t+1"),
    "q2_off_by_one_in_time": (
        "q2", "for t in reversed(range(T)):\n        dx_t", "for t in reversed(range(1, T)):\n        dx_t",
        "rnn_backward stops before t = 0"),
    "q3_embedding_overwrites": (
        "q3", "np.add.at(dW, x, dout)", "dW[x] += dout",
        "embedding_backward overwrites repeated rows instead of accumulating"),
    "q4_mask_ignored": (
        "q4", "m_flat = mask.reshape(N * T).astype(np.float64)", "m_flat = np.ones(N * T)",
        "temporal_softmax_loss ignores the mask"),
    "q4_unstable_softmax": (
        "q4", "shifted = x_flat - x_flat.max(axis=1, keepdims=True)", "shifted = x_flat",
        "temporal_softmax_loss exponentiates raw scores (overflows for large scores)"),
    "q5_clip_by_squared_norm": (
        "q5", "total_norm = float(np.sqrt(sum(", "total_norm = float((sum(",
        "clip_grad_norm uses the squared norm"),
    "q6_temperature_multiplies": (
        "q6", "z = np.asarray(scores, dtype=np.float64) / temperature",
        "z = np.asarray(scores, dtype=np.float64) * temperature",
        "temperature_softmax multiplies by the temperature instead of dividing"),
    "q7_gradient_ascent": (
        "q7", "params[name] = params[name] - config.learning_rate", "params[name] = params[name] + config.learning_rate",
        "train_char_lm climbs the loss instead of descending it"),
}
