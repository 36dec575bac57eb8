// The two DOM helpers every podsearch page uses (loaded before the page's own script).
"use strict";

const $ = (id) => document.getElementById(id);

// An element with a class and text; text always goes in through textContent, never as HTML.
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
