// Parse every line of a file with tmi.js 1.8.5's parser the way its client does, and print
// {"lines", "seconds"} for the best of 3 runs (reading the file is not timed).
// Usage: node bench/tmi_parse.js FILE
"use strict";

const fs = require("fs");
const parse = require("tmi.js/lib/parser");
const _ = require("tmi.js/lib/utils");

function parseLine(line) {
  const message = parse.msg(line);
  if (message === null) {
    return 0;
  }
  // client.handleMessage: channel and text, then badges, badge-info, emotes and tag unescaping.
  const channel = _.channel(_.get(message.params[0], null));
  const msg = _.get(message.params[1], null);
  const tags = (message.tags = parse.badges(parse.badgeInfo(parse.emotes(message.tags))));
  for (const key in tags) {
    if (key === "emote-sets" || key === "ban-duration" || key === "bits") {
      continue;
    }
    let value = tags[key];
    if (typeof value === "boolean") {
      value = null;
    } else if (value === "1") {
      value = true;
    } else if (value === "0") {
      value = false;
    } else if (typeof value === "string") {
      value = _.unescapeIRC(value);
    }
    tags[key] = value;
  }
  return (channel ? channel.length : 0) + (msg ? 1 : 0);
}

function main() {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: node tmi_parse.js FILE");
    process.exit(2);
  }
  const lines = fs.readFileSync(path, "utf8").split("\n");
  if (lines.length && lines[lines.length - 1] === "") {
    lines.pop();
  }
  let best = Infinity;
  let sink = 0;
  for (let run = 0; run < 3; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) {
      sink += parseLine(lines[i]);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.min(best, seconds);
  }
  // `sink` keeps the work observable so the JIT cannot drop it.
  process.stdout.write(JSON.stringify({ lines: lines.length, seconds: best, sink }) + "\n");
}

main();
