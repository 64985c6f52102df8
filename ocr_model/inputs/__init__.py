"""Files to pixels: the image decoder for untrusted files (`image_decode`, with `jpeg_scans`) and PDF pages
(`pdf_pages`)."""
