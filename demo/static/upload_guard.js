// Page-load script (Python calls it with the upload limit in bytes and as the user reads it): a file
// over the limit is named, with the limit, in a note under its input.
(limit, limitLabel) => {
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file') return;
    const block = input.closest('#image-input, #batch-input');
    if (!block) return;
    const note = document.getElementById(block.id + '-note');
    if (!note) return;
    const big = Array.from(input.files || []).filter((file) => file.size > limit);
    note.textContent = big.length
      ? big.map((file) => '"' + file.name + '" is ' + (file.size / 1e6).toFixed(1) + ' MB').join('; ')
        + ': the upload limit is ' + limitLabel + '. Please upload a smaller file (scale it down or save it as JPEG).'
      : '';
    note.hidden = big.length === 0;
  }, true);
}
