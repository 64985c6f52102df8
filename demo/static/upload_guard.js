// Page-load script (Python calls it with the upload limit in bytes and as the user reads it): a file
// over the limit is named, with the limit, in a note under its input, and is held back from Gradio.
// Gradio would otherwise show a second message for the same file, in other units ("25.0 Mb" beside
// "25 MB"); sizes here are in MB of 2^20 bytes, as Gradio counts "25mb".
(limit, limitLabel) => {
  const INPUTS = '#image-input, #batch-input, #pdf-input';
  const guard = (block, files) => {
    const note = document.getElementById(block.id + '-note');
    if (!note) return false;
    const big = Array.from(files || []).filter((file) => file.size > limit);
    note.textContent = big.length
      ? big.map((file) => '"' + file.name + '" is ' + (file.size / 1048576).toFixed(1) + ' MB').join('; ')
        + ': the upload limit is ' + limitLabel + '. Please upload a smaller file (scale it down or save it as JPEG).'
      : '';
    note.hidden = big.length === 0;
    return big.length > 0;
  };
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file') return;
    const block = input.closest(INPUTS);
    if (block && guard(block, input.files)) {
      event.stopImmediatePropagation();  // capture phase: Gradio's own handler never sees the file
      input.value = '';
    }
  }, true);
  document.addEventListener('drop', (event) => {
    const block = event.target instanceof Element ? event.target.closest(INPUTS) : null;
    if (block && event.dataTransfer && guard(block, event.dataTransfer.files)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
}
