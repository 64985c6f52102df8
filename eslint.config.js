// eslint for the browser scripts in demo/static/ (run by .ci/run: `npx eslint demo/static`).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["demo/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      // Gradio runs each file as the body of a function, not as a module.
      sourceType: "script",
      globals: {
        ...globals.browser,
        // Given by Gradio to a gr.HTML component's js_on_load (demo/explorer.py).
        element: "readonly",
        props: "readonly",
        watch: "readonly",
      },
    },
  },
  {
    // demo/explorer.py component_js() puts these before each component's script (el is dom.js's).
    files: ["demo/static/explorer.js", "demo/static/lines_table.js"],
    languageOptions: {
      globals: { SELECT_EVENT: "readonly", el: "readonly" },
    },
  },
];
