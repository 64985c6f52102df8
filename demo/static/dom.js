/* exported el */
// Shared by explorer.js and lines_table.js: Python puts this file before each of them.
const el = (tag, cls, parent) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
};
