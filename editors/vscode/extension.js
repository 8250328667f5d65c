// The VS Code side of `infer lsp`: start the server, keep it told of open .infer documents,
// and route diagnostics, hover, definition, completion, outline and formatting through it.
"use strict";
const vscode = require("vscode");
const { Connection } = require("./rpc");

let connection;

function toRange(r) {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

function toLocation(loc) {
  return new vscode.Location(vscode.Uri.parse(loc.uri), toRange(loc.range));
}

function position(document, pos) {
  return { textDocument: { uri: document.uri.toString() }, position: { line: pos.line, character: pos.character } };
}

function toSymbol(s) {
  const symbol = new vscode.DocumentSymbol(s.name, s.detail || "", (s.kind || 8) - 1, toRange(s.range),
    toRange(s.selectionRange));
  symbol.children = (s.children || []).map(toSymbol);
  return symbol;
}

async function activate(context) {
  const command = vscode.workspace.getConfiguration("infer").get("server.command") || ["infer", "lsp"];
  const cwd = vscode.workspace.workspaceFolders ? vscode.workspace.workspaceFolders[0].uri.fsPath : undefined;
  connection = new Connection(command[0], command.slice(1), { cwd });
  const diagnostics = vscode.languages.createDiagnosticCollection("infer");
  context.subscriptions.push(diagnostics);
  connection.onNotification("textDocument/publishDiagnostics", (params) => {
    diagnostics.set(vscode.Uri.parse(params.uri), params.diagnostics.map((d) => {
      const diag = new vscode.Diagnostic(toRange(d.range), d.message, (d.severity || 1) - 1);
      diag.code = d.code;
      diag.source = "infer";
      diag.relatedInformation = (d.relatedInformation || []).map(
        (r) => new vscode.DiagnosticRelatedInformation(toLocation(r.location), r.message));
      return diag;
    }));
  });
  await connection.request("initialize", { processId: process.pid, rootUri: null, capabilities: {} });
  connection.notify("initialized", {});

  const isInfer = (doc) => doc.languageId === "infer";
  const open = (doc) => isInfer(doc) && connection.notify("textDocument/didOpen", {
    textDocument: { uri: doc.uri.toString(), languageId: "infer", version: doc.version, text: doc.getText() } });
  vscode.workspace.textDocuments.forEach(open);
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(open),
    vscode.workspace.onDidChangeTextDocument((e) => isInfer(e.document) && connection.notify(
      "textDocument/didChange", { textDocument: { uri: e.document.uri.toString(), version: e.document.version },
        contentChanges: [{ text: e.document.getText() }] })),
    vscode.workspace.onDidCloseTextDocument((doc) => isInfer(doc) && connection.notify(
      "textDocument/didClose", { textDocument: { uri: doc.uri.toString() } })),
    vscode.languages.registerHoverProvider("infer", {
      async provideHover(doc, pos) {
        const h = await connection.request("textDocument/hover", position(doc, pos));
        return h ? new vscode.Hover(new vscode.MarkdownString(h.contents.value || String(h.contents))) : null;
      } }),
    vscode.languages.registerDefinitionProvider("infer", {
      async provideDefinition(doc, pos) {
        const loc = await connection.request("textDocument/definition", position(doc, pos));
        return loc ? (Array.isArray(loc) ? loc.map(toLocation) : toLocation(loc)) : null;
      } }),
    vscode.languages.registerCompletionItemProvider("infer", {
      async provideCompletionItems(doc, pos) {
        const list = await connection.request("textDocument/completion", position(doc, pos));
        return ((list && list.items) || []).map((i) => {
          const item = new vscode.CompletionItem(i.label, (i.kind || 1) - 1);
          item.detail = i.detail;
          return item;
        });
      } }, "."),
    vscode.languages.registerDocumentSymbolProvider("infer", {
      async provideDocumentSymbols(doc) {
        const symbols = await connection.request("textDocument/documentSymbol", { textDocument: { uri: doc.uri.toString() } });
        return (symbols || []).map(toSymbol);
      } }),
    vscode.languages.registerDocumentFormattingEditProvider("infer", {
      async provideDocumentFormattingEdits(doc, options) {
        const edits = await connection.request("textDocument/formatting", {
          textDocument: { uri: doc.uri.toString() }, options: { tabSize: options.tabSize, insertSpaces: true } });
        return (edits || []).map((e) => vscode.TextEdit.replace(toRange(e.range), e.newText));
      } }));
}

function deactivate() {
  return connection ? connection.stop() : undefined;
}

module.exports = { activate, deactivate };
