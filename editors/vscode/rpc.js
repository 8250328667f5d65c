// A minimal Language Server Protocol client transport: Content-Length framing over a child
// process's stdio, requests with promises, notifications by method. No dependencies, so the
// extension needs no npm install and no build step.
"use strict";
const { spawn } = require("child_process");

class Connection {
  constructor(command, args, options) {
    this.child = spawn(command, args, Object.assign({ stdio: ["pipe", "pipe", "pipe"] }, options || {}));
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Map();
    this.buffer = Buffer.alloc(0);
    this.child.stdout.on("data", (chunk) => this._receive(chunk));
    this.child.on("exit", (code) => {
      for (const { reject } of this.pending.values()) reject(new Error(`infer lsp exited (${code})`));
      this.pending.clear();
    });
  }

  onNotification(method, handler) { this.handlers.set(method, handler); }

  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this._send({ jsonrpc: "2.0", id, method, params });
    });
  }

  notify(method, params) { this._send({ jsonrpc: "2.0", method, params }); }

  async stop() {
    try { await this.request("shutdown", null); this.notify("exit", null); } catch (e) { /* already gone */ }
    this.child.stdin.end();
  }

  _send(message) {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  _receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const match = /Content-Length: *(\d+)/i.exec(this.buffer.slice(0, end).toString("ascii"));
      if (!match) { this.buffer = this.buffer.slice(end + 4); continue; }
      const length = Number(match[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.slice(end + 4, end + 4 + length).toString("utf8"));
      this.buffer = this.buffer.slice(end + 4 + length);
      this._dispatch(message);
    }
  }

  _dispatch(message) {
    if (message.id !== undefined && (message.result !== undefined || message.error !== undefined)) {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message)); else waiting.resolve(message.result);
    } else if (message.id !== undefined) {
      this._send({ jsonrpc: "2.0", id: message.id, result: null });   // server requests: accept
    } else if (this.handlers.has(message.method)) {
      this.handlers.get(message.method)(message.params);
    }
  }
}

module.exports = { Connection };
