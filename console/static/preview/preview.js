// The child's-eye preview's entry module: the preview's transport first, then the widget's own entry
// (main.js, unchanged), then the panel opened as a child would open it.
import "./preview-transport.js";
import "./main.js";
import { el } from "./context.js";
import { openPanel } from "./host.js";

if (el.panel.hidden) openPanel(false);
