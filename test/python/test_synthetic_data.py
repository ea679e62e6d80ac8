"""The synthetic source's entropy against its definition, from samples and by hand."""
import math
import random
from collections import Counter, defaultdict

from efficientllm_harness.data.synthetic import SyntheticSource


def plug_in_conditional_entropy(pairs):
    """H(Y | X) estimated from (x, y) samples by counting: Σ_x p(x) H(Y | X = x)."""
    by_context = defaultdict(Counter)
    for x, y in pairs:
        by_context[x][y] += 1
    n = sum(sum(c.values()) for c in by_context.values())
    h = 0.0
    for counts in by_context.values():
        m = sum(counts.values())
        h += m / n * -sum(c / m * math.log(c / m) for c in counts.values())
    return h


def test_markov_entropy_matches_a_count_over_samples():
    src = SyntheticSource(vocab=16, seed=3)
    length = 200  # 16 tokens is too small a vocabulary for recall keys to matter; look at the text
    lay = src.layout(length)
    pairs = []
    for i in range(300):
        doc = src.document(random.Random(f"count/{i}"), length)
        pairs += [(doc[t - 1], doc[t]) for t in range(1, lay.markov)]
    # ~60k transitions over 14 contexts: the plug-in estimate is within a few thousandths
    assert abs(plug_in_conditional_entropy(pairs) - src.context_entropy) < 0.02
    # and the successor law by hand: the i-th successor has probability ∝ 1/(i+1)^1.1, 8 of them
    w = [1 / (i + 1) ** 1.1 for i in range(8)]
    z = sum(w)
    assert abs(src.context_entropy - -sum(x / z * math.log(x / z) for x in w)) < 1e-12


def test_entropy_per_token_by_hand():
    src = SyntheticSource(vocab=1024, seed=0)
    length = 129  # seq_len 128: 8 pairs, 20 recall tokens, 109 Markov tokens
    lay = src.layout(length)
    assert (lay.markov, lay.pairs) == (109, 8)
    h = src.context_entropy
    recall = sum(math.log(64 - i) for i in range(8)) + 8 * math.log(64) + math.log(8)
    by_hand = (108 * h + recall) / 128
    assert abs(src.entropy_per_token(length) - by_hand) < 1e-12
    assert 0 < src.entropy_per_token(length) < math.log(1024)


def test_recall_segment_is_answerable_and_documents_are_reproducible():
    src = SyntheticSource(vocab=1024, seed=0)
    a = src.batch("train", 5, 4, 129)
    b = SyntheticSource(vocab=1024, seed=0).batch("train", 5, 4, 129)
    assert a.equal(b)
    assert not a.equal(src.batch("heldout", 5, 4, 129))
    assert not a.equal(SyntheticSource(vocab=1024, seed=1).batch("train", 5, 4, 129))
    for doc in a.tolist():
        assert doc[109] == src.sep and doc[-3] == src.query
        keys, values = doc[110:126:2], doc[111:126:2]
        assert len(set(keys)) == 8
        assert doc[-2] in keys and doc[-1] == values[keys.index(doc[-2])]
        assert max(doc[:109]) < src.alphabet
