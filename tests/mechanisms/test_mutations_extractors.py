"""Can-fail proofs for the feature-extractor demos: break each mechanism on purpose and the verdict
on its claim must move (an identity no longer holds, an experiment no longer supports); train too
little and the verdict must be inconclusive, never contradicts."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._support import run as _run


def _verdict(result, claim: str) -> str:
    return result.verdict_for(claim).verdict


# ------------------------------------------------------------------ cnn-receptive-field (Q2.3, identity)


def test_a_dilated_convolution_grows_the_field_by_more_than_k_minus_1_and_q2_3_fails(monkeypatch):
    import mechanisms.cnn_receptive_field as cnn

    def dilated(x, layers):                                 # every layer skips a position: 2(k-1) per layer
        h = x.transpose(1, 2)
        for w, b in layers:
            h = torch.relu(F.conv1d(h, w, b, dilation=2))
        return h.transpose(1, 2)

    monkeypatch.setattr(cnn, "conv_stack", dilated)
    r = _run("cnn-receptive-field")
    assert r.metrics["receptive_field_growth_excess"] == 2   # k = 3: 4 new positions per layer, not 2
    assert _verdict(r, "Q2.3") == "fails"


def test_pooling_that_remembers_where_the_maximum_was_breaks_q2_3(monkeypatch):
    import mechanisms.cnn_receptive_field as cnn

    def position_weighted(h):                               # a pooled vector that depends on the offset
        return (h * torch.arange(1, h.shape[1] + 1, dtype=h.dtype)[None, :, None]).sum(dim=1)

    monkeypatch.setattr(cnn, "max_over_time", position_weighted)
    r = _run("cnn-receptive-field")
    assert r.metrics["pooled_shift_change"] > 1e-3
    assert _verdict(r, "Q2.3") == "fails"


# ------------------------------------------------------------------ layer-cost (Q2.6, Q2.7, identities)


def test_linear_attention_costs_n_times_d_squared_so_q2_7_fails(monkeypatch):
    import mechanisms.layer_cost as lc

    monkeypatch.setattr(lc, "attention_core", lambda q, k, v, mem_len=0: q @ (k.T @ v))   # O(n·d²), not O(n²·d)
    r = _run("layer-cost", {"grid": 2})
    assert abs(r.metrics["self_attention_n_exponent"] - 1) < 0.01
    assert _verdict(r, "Q2.7") == "fails"


def test_a_transformer_whose_segments_read_the_previous_output_would_be_serial_and_q2_6_would_hold(monkeypatch):
    # The real Transformer-XL fails Q2.6 (its chain does not grow); a recurrence over whole segments grows it.
    import mechanisms.layer_cost as lc

    def segment_recurrent(x, layers, L):
        prev, outs = 0, []
        for s in range(0, x.shape[0], L):
            h = x[s:s + L] + prev                           # segment τ+1 starts from segment τ's last layer
            for W in layers:
                h = lc.transformer_block(h, W)
            prev = h
            outs.append(h)
        return torch.cat(outs)

    assert _verdict(_run("layer-cost", {"grid": 3}), "Q2.6") == "fails"
    monkeypatch.setattr(lc, "transformer_xl", segment_recurrent)
    r = _run("layer-cost", {"grid": 3})
    assert r.metrics["Transformer_XL_depth_slope"] > 0.9
    assert _verdict(r, "Q2.6") == "holds"


# ------------------------------------------------------------------ elmo-label-leakage (Q4.5)


def test_elmo_whose_second_layers_read_both_directions_leaks_and_q4_5_is_contradicted(monkeypatch):
    import mechanisms.elmo_label_leakage as elmo

    real = elmo.BiLM.forward

    def mixed(self, e):                                     # "separate" directions whose layer 2 reads f1 + b1
        if self.interleaved:
            return real(self, e)
        backward = lambda lstm, z: lstm(z.flip(1))[0].flip(1)
        f1, b1 = self.f1(e)[0], backward(self.b1, e)
        return self.softmax(self.f2(f1 + b1)[0]), self.softmax(backward(self.b2, b1 + f1))

    monkeypatch.setattr(elmo.BiLM, "forward", mixed)
    r = _run("elmo-label-leakage")
    assert r.metrics["elmo_leak_gradient"] > 0
    assert _verdict(r, "Q4.5") == "contradicts"


def test_a_stacked_bilstm_without_the_other_direction_cannot_cheat_and_q4_5_is_contradicted(monkeypatch):
    import mechanisms.elmo_label_leakage as elmo

    real = elmo.BiLM
    monkeypatch.setattr(elmo, "BiLM", lambda V, d, H, interleaved: real(V, d, H, False))  # no model interleaves
    r = _run("elmo-label-leakage")
    assert r.metrics["interleaved_leak_gradient"] == 0
    assert r.metrics["interleaved_train_loss_per_ln_V"] > 0.9
    assert _verdict(r, "Q4.5") == "contradicts"             # the copy control learned: not a training failure


def test_elmo_trained_ten_steps_is_inconclusive_not_contradicted():
    # The issue: after 10 steps the interleaved model has not learned to copy yet (loss > 0.9 ln V) although
    # its leak gradient is already non-zero; the copy control has not learned either, so: inconclusive.
    r = _run("elmo-label-leakage", {"steps": 10})
    assert r.metrics["interleaved_leak_gradient"] > 0
    assert r.metrics["copy_control_held_out_per_ln_V"] > 0.5
    assert _verdict(r, "Q4.5") == "inconclusive"
    assert "did not learn" in r.verdict_for("Q4.5").explanation


# ------------------------------------------------------------------ long-range-dependency (Q2.1, Q2.4, Q4.4)


def test_a_transformer_xl_without_its_cache_reaches_no_further_than_a_transformer(monkeypatch):
    import mechanisms.long_range_dependency as lrd

    monkeypatch.setattr(lrd, "transformer_xl", lambda x, layers, L: lrd.transformer(x, layers, L))
    r = _run("long-range-dependency")
    assert r.metrics["reach_xl_minus_transformer"] == 0
    assert _verdict(r, "Q2.1") != "supports"


def test_an_rnn_with_an_identity_recurrence_keeps_its_gradient_and_q2_4_is_contradicted(monkeypatch):
    import mechanisms.long_range_dependency as lrd

    def identity_rnn(x, W_ih, W_hh, b):                     # h_t = h_{t-1} + W_ih x_t: nothing to vanish
        h = x.new_zeros(x.shape[0], W_hh.shape[0])
        for t in range(x.shape[1]):
            h = h + x[:, t] @ W_ih.T
        return h

    monkeypatch.setattr(lrd, "rnn", identity_rnn)
    r = _run("long-range-dependency")
    assert r.metrics["rnn_decay"] > 0.5
    assert _verdict(r, "Q2.4") == "contradicts"


def test_an_lstm_cell_that_never_forgets_keeps_its_gradient_and_q4_4_is_contradicted(monkeypatch):
    # The trained weights measured in a cell without a forget gate (c_t = c_{t-1} + i ⊙ g, the constant
    # error carousel): the gradient no longer vanishes, and the gradient half of Q2.4 and Q4.4 says so.
    import mechanisms.long_range_dependency as lrd

    def never_forgets(x, W_ih, W_hh, b_ih, b_hh):
        h = c = x.new_zeros(x.shape[0], W_hh.shape[1])
        out = []
        for t in range(x.shape[1]):
            i, f, g, o = (x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
            c = c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            out.append(h)
        return torch.stack(out, 1)

    monkeypatch.setattr(lrd, "lstm", never_forgets)
    r = _run("long-range-dependency")
    assert r.metrics["trained_lstm_decay"] > 0.5
    assert _verdict(r, "Q4.4") == "contradicts"
    assert _verdict(r, "Q2.4") == "contradicts"


def test_an_lstm_state_that_carries_the_first_token_along_recalls_it_and_q4_4_is_contradicted(monkeypatch):
    # A long-range path into the last state (a fixed random code of the token 32 steps back): the read-out
    # learns to recall it, the recall reach becomes 32 and Q4.4 can no longer be supported.
    import mechanisms.long_range_dependency as lrd

    real = lrd.recall_state
    code = torch.randn(lrd.RECALL_VOCAB, 32, generator=torch.Generator().manual_seed(0))

    def with_a_shortcut(net, tokens):
        return real(net, tokens) + code[tokens[:, 0]]

    monkeypatch.setattr(lrd, "recall_state", with_a_shortcut)
    r = _run("long-range-dependency")                       # default width d = 32
    assert r.metrics["lstm_recall_reach"] == 32
    assert _verdict(r, "Q4.4") == "contradicts"


def test_an_lstm_trained_one_step_makes_every_verdict_inconclusive(monkeypatch):
    import mechanisms.long_range_dependency as lrd

    monkeypatch.setattr(lrd, "TRAIN_STEPS", 1)
    r = _run("long-range-dependency")
    assert r.metrics["lstm_recall_accuracy_lag1"] < 0.5
    assert [_verdict(r, c) for c in ("Q2.1", "Q2.4", "Q4.4")] == ["inconclusive"] * 3


# ------------------------------------------------------------------ mlp-order-blindness (Q2.2)


def _fixed_length_cbow(mlp, w: int):
    class FixedCBOW(mlp.CBOW):                              # a bag that refuses windows of other lengths
        def forward(self, window):
            if window.shape[1] != w:
                raise RuntimeError("this CBOW reads exactly w words")
            return super().forward(window)
    return FixedCBOW


def test_if_both_mlps_were_fixed_length_bags_q2_2_would_be_supported(monkeypatch):
    import mechanisms.mlp_order_blindness as mlp

    def sorted_window(self, window):                        # NNLM on each coordinate's sorted slot values:
        x = self.emb(window).sort(dim=1).values.flatten(1)  # fixed size w·d, blind to the slots' order
        return self.U(torch.tanh(self.H(x)))

    monkeypatch.setattr(mlp.NNLM, "forward", sorted_window)
    monkeypatch.setattr(mlp, "CBOW", _fixed_length_cbow(mlp, 4))
    r = _run("mlp-order-blindness")
    assert r.metrics["nnlm_order_gain"] < 0.1 and r.metrics["cbow_accepts_other_lengths"] == 0
    assert _verdict(r, "Q2.2") == "supports"


def test_a_bag_that_weighs_its_slots_learns_word_order_and_q2_2_is_contradicted(monkeypatch):
    # Start from the models that support the claim (previous test), then give the bag one learned weight per
    # slot: it finds the first word and the claim is contradicted.
    import mechanisms.mlp_order_blindness as mlp

    def sorted_window(self, window):
        return self.U(torch.tanh(self.H(self.emb(window).sort(dim=1).values.flatten(1))))

    fixed = _fixed_length_cbow(mlp, 4)

    class SlotWeightedCBOW(fixed):
        def __init__(self, V, d):
            super().__init__(V, d)
            self.slot = torch.nn.Parameter(torch.ones(4))

        def forward(self, window):
            super().forward(window)                         # the length check
            return self.out((self.emb(window) * self.slot[:, None]).mean(dim=1))

    monkeypatch.setattr(mlp.NNLM, "forward", sorted_window)
    monkeypatch.setattr(mlp, "CBOW", SlotWeightedCBOW)
    r = _run("mlp-order-blindness")
    assert r.metrics["cbow_order_gain"] > 0.2
    assert _verdict(r, "Q2.2") == "contradicts"


def test_mlps_trained_ten_steps_are_inconclusive_not_contradicted():
    r = _run("mlp-order-blindness", {"steps": 10})
    assert r.metrics["min_order_gain"] < -0.05               # the bag has not learned even the order-blind part
    assert _verdict(r, "Q2.2") == "inconclusive"
