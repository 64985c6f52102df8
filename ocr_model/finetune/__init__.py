"""Fine-tune the text-line recognizer on your own documents (CTC on the recognizer's logits).

    python -m ocr_model.finetune --train my_receipts/ --out receipts.safetensors

- `line_data`: labelled lines from a folder, cut with the engine's crop code; the split by image;
- `augment`: geometric and photometric jitter of a line, cut again with the engine's crop code;
- `synthetic`: lines of the training vocabulary rendered with the system's fonts;
- `metrics`: CER, line and word accuracy;
- `trainer`: the loop (CTC, AdamW, validation each epoch, best epoch written atomically);
- `recognizer_io`: loading the base recognizer and writing the result as a checkpoint;
- `cli`: the command line.
"""
