from mosecrot_viz.analysis.anchor_words import default_heatmap_words


def test_default_words_are_frequent_content_words():
    anchors = {"target_words": ["%", "PO", "le", "maison", "chat", "2000", "x", "chien"],
               "source_words": ["percent", "po", "the", "house", "cat", "2000", "x", "dog"],
               "target_ids": [900, 800, 0, 5, 3, 1, 2, 4]}
    # frequency order (row in the vector file), no symbols, digits, single characters or stop-word translations
    assert default_heatmap_words(anchors, n=3) == ["chat", "chien", "maison"]
