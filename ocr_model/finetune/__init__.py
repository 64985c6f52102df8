"""Fine-tune the text-line recognizer on your own documents (CTC on the recognizer's logits).

- `line_data`: labelled lines from a folder, cut with the engine's crop code; the split by image;
- `augment`: geometric and photometric jitter of a line, cut again with the engine's crop code;
- `synthetic`: lines of the training vocabulary rendered with the system's fonts;
- `metrics`: CER, line and word accuracy.
"""
