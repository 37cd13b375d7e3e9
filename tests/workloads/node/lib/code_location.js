// Adds code.filepath / code.lineno / code.function to database and cache client spans, taken from
// the call stack when the span starts: the application frame that issued the query. Users add
// such a SpanProcessor to find the line behind a slow statement.
'use strict';
const path = require('node:path');

function isApplicationFrame(file) {
  return file && !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith('node:') &&
    !file.startsWith(`${__dirname}${path.sep}`);
}

// "    at listProducts (/x/services/storefront.js:42:20)", "    at /x/services/storefront.js:42:20",
// and either after "async " (an awaiting frame: "    at async /x/services/catalog.js:25:20")
const FRAME = /^\s*at (?:async )?(?:(.*?) \()?(.*?):(\d+):\d+\)?$/;

function callerFrame() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack.split('\n').slice(1);
  Error.stackTraceLimit = limit;
  for (const line of stack) {
    const m = FRAME.exec(line);
    if (m && isApplicationFrame(m[2])) return { fn: m[1] || '<anonymous>', file: m[2], line: Number(m[3]) };
  }
  return null;
}

class CodeLocationProcessor {
  constructor(root) { this.root = root; }
  onStart(span) {
    if (!span.attributes['db.system'] && !span.attributes['db.system.name']) return;
    const frame = callerFrame();
    if (!frame) return;
    span.setAttribute('code.filepath', path.relative(this.root, frame.file).split(path.sep).join('/'));
    span.setAttribute('code.lineno', frame.line);
    span.setAttribute('code.function', frame.fn.replace(/^Object\./, ''));
  }
  onEnd() {}
  forceFlush() { return Promise.resolve(); }
  shutdown() { return Promise.resolve(); }
}

module.exports = { CodeLocationProcessor };
