"""The OCR pipeline: `predictor.OcrModel` runs detection -> crops -> lines -> (line orientation) ->
recognition -> words -> reading order, with page rotation around it."""
