"""Editor support: the TextMate grammar reads like the compiler's lexer; the VS Code client talks to `infer lsp`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EDITORS = REPO / "editors"
GRAMMAR = json.loads((EDITORS / "infer.tmLanguage.json").read_text(encoding="utf-8"))


def rule(name: str) -> re.Pattern[str]:
    return re.compile(GRAMMAR["repository"][name]["match"])


def test_every_pattern_compiles() -> None:
    def patterns(node: object) -> list[str]:
        if isinstance(node, dict):
            own = [node["match"]] if "match" in node else []
            return own + [p for v in node.values() for p in patterns(v)]
        if isinstance(node, list):
            return [p for v in node for p in patterns(v)]
        return []

    found = patterns(GRAMMAR)
    assert len(found) > 15
    for p in found:
        re.compile(p)


def test_quantity_rule_splits_number_and_unit_like_the_lexer() -> None:
    q = rule("quantity")
    assert q.match("3.35 TB/s").groups() == ("3.35", "TB/s")
    assert q.match("90 %").groups() == ("90", "%")
    assert q.match("2 then").groups() == ("2", None)          # keywords never start a unit
    assert q.match("1e3").groups() == ("1e3", None)


def test_annotation_and_version_rules() -> None:
    m = rule("annotation").search("  kv: KiB/token = 2 KiB/token")
    assert m is not None and m.group(3) == "KiB/token"
    assert rule("annotation").search("gpu: one of [a, b]") is None
    assert rule("version").match("infer 0.2  # note").group(2) == "0.2"


def test_the_extension_manifest_points_at_files_that_exist() -> None:
    manifest = json.loads((EDITORS / "vscode" / "package.json").read_text(encoding="utf-8"))
    base = EDITORS / "vscode"
    assert (base / manifest["main"]).is_file()
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".infer"] and (base / language["configuration"]).is_file()
    (grammar,) = manifest["contributes"]["grammars"]
    assert (base / grammar["path"]).resolve() == (EDITORS / "infer.tmLanguage.json").resolve()
    assert grammar["scopeName"] == GRAMMAR["scopeName"]
    json.loads((base / "language-configuration.json").read_text(encoding="utf-8"))


CLIENT = """
const [rpc, python, repo] = process.argv.slice(-3);
const { Connection } = require(rpc);
const c = new Connection(python, ["-m", "solver.cli", "lsp"], { cwd: repo });
const uri = "file:///tmp/infer-editor-test/broken.infer";
c.onNotification("textDocument/publishDiagnostics", async (p) => {
  const hover = await c.request("textDocument/hover", { textDocument: { uri }, position: { line: 0, character: 0 } });
  console.log(JSON.stringify({ codes: p.diagnostics.map((d) => d.code), hover }));
  await c.stop();
});
c.request("initialize", { processId: null, rootUri: null, capabilities: {} }).then(() => {
  c.notify("initialized", {});
  c.notify("textDocument/didOpen", { textDocument: { uri, languageId: "infer", version: 1,
    text: "x = 2 GB\\ny = x * nope\\n" } });
});
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_vscode_client_transport_talks_to_the_server() -> None:
    done = subprocess.run(["node", "-e", CLIENT, "--", str(EDITORS / "vscode" / "rpc.js"), sys.executable, str(REPO)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["codes"] == ["E0201"]
    assert "x = 2 GB" in answer["hover"]["contents"]["value"]      # the source, while the spec has an error
